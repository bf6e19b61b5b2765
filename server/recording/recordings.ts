// The recordings of this process's live sessions, one folder per session under the
// recording directory (RECORDING_DIR, default DATA_DIR/recordings; never under the
// static files). A live session tells it when its state, room or host's choice change;
// it starts a session's recording when the session is live with a room and recording
// on, follows a new room, and stops it at the end.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Session } from '../contract/api';
import type { RecordingConfig } from '../config';
import type { TimelineEntry } from '../contract/timeline';
import { SessionRecording, type RecordingRoom } from './session-recording';

/** What a live session asks of the recorder (a null object when recording is off). */
export interface RecordingPort {
  /** The session, its room (if any) and the host's choice, as they are now. */
  update(session: Session, room: RecordingRoom | undefined, wanted: boolean): Promise<void>;
  /** When the session's recording started, or null when it is not recording. */
  since(sessionId: string): string | null;
  /** False when recording is switched off for the whole server. */
  readonly available: boolean;
  close(): Promise<void>;
}

export const NO_RECORDING: RecordingPort = {
  update: async () => undefined,
  since: () => null,
  available: false,
  close: async () => undefined,
};

/** A session's recording folder under the recording directory (the id checked upstream by the contract). */
export const recordingDir = (root: string, sessionId: string) => path.join(root, path.basename(sessionId));

export interface RecordingsOptions {
  config: RecordingConfig;
  /** Where the recorders listen for RTP from the SFU (the pool's ingest address). */
  ip: string;
  timeline: (sessionId: string) => Promise<TimelineEntry[]>;
  /** A recording ended with its session, something recorded: its archive can be made. */
  onStopped?: (sessionId: string) => void;
  logger: Logger;
}

export class Recordings implements RecordingPort {
  readonly available = true;
  readonly #o: RecordingsOptions;
  readonly #log: Logger;
  readonly #active = new Map<string, Promise<SessionRecording | undefined>>();
  readonly #since = new Map<string, string>();
  /** Stops under way: whoever else asks waits for the same one. */
  readonly #stopping = new Map<string, Promise<void>>();
  /** Every recorder process started for this server's sessions and not yet exited. */
  readonly #processes = new Set<ChildProcess>();
  #closed = false;

  constructor(o: RecordingsOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'recording' });
  }

  /** A session's folder; the id is the session's, checked by the contract's Id pattern upstream. */
  dirOf(sessionId: string): string {
    return recordingDir(this.#o.config.dir, sessionId);
  }

  since(sessionId: string): string | null {
    return this.#since.get(sessionId) ?? null;
  }

  async update(session: Session, room: RecordingRoom | undefined, wanted: boolean): Promise<void> {
    const current = this.#active.get(session.id);
    const shouldRecord = wanted && session.state === 'live' && !this.#closed;
    if (!shouldRecord) {
      if (current) await this.#stop(session.id);
      await this.#stopping.get(session.id);
      return;
    }
    if (!room) return;
    if (current) {
      (await current)?.attach(room);
      return;
    }
    const log = this.#log.child({ sessionId: session.id });
    const starting = SessionRecording.start(
      {
        sessionId: session.id,
        title: session.title,
        dir: this.dirOf(session.id),
        segmentSeconds: this.#o.config.segmentSeconds,
        ffmpegPath: this.#o.config.ffmpegPath,
        processes: this.#processes,
        ip: this.#o.ip,
        timeline: () => this.#o.timeline(session.id),
        log,
      },
      room,
    ).then(
      (rec) => {
        this.#since.set(session.id, rec.startedAt);
        log.info({ dir: this.dirOf(session.id) }, 'recording started');
        return rec;
      },
      (err: unknown) => {
        // The broadcast goes on without it; the next change tries again.
        log.error({ err }, 'could not start recording');
        this.#active.delete(session.id);
        return undefined;
      },
    );
    this.#active.set(session.id, starting);
    await starting;
  }

  #stop(sessionId: string, final = true): Promise<void> {
    const active = this.#active.get(sessionId);
    this.#active.delete(sessionId);
    this.#since.delete(sessionId);
    const stopping = (async () => {
      const rec = await active;
      if (!rec) return;
      const m = await rec.stop(final);
      const segments = m.tracks.reduce((n, t) => n + t.segments.length, 0);
      this.#log.info({ sessionId, tracks: m.tracks.length, segments }, 'recording stopped');
      if (final && segments > 0) this.#o.onStopped?.(sessionId);
    })().finally(() => this.#stopping.delete(sessionId));
    this.#stopping.set(sessionId, stopping);
    return stopping;
  }

  /** Stops every recorder at shutdown (their last segments are written); a restart continues. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#active.keys()].map((id) => this.#stop(id, false)));
    // Those that ended with their session and are still finishing their last segments.
    await Promise.all(this.#stopping.values());
    // None outlives the server: a recorder waits for packets for ever.
    for (const proc of this.#processes) {
      this.#log.warn({ pid: proc.pid }, 'recorder still running at shutdown: killed');
      proc.kill('SIGKILL');
    }
  }
}
