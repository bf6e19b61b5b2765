// The recordings of this process's live sessions, one folder per session under the
// recording directory (RECORDING_DIR, default DATA_DIR/recordings; never under the
// static files). A live session tells it when its state, room or host's choice change;
// it starts a session's recording when the session is live with a room and recording
// on, follows a new room, and stops it at the end. One that cannot start is shown to the
// console as `failed` until a later change starts it.
//
// While anything records, free disk space is watched (./disk-watch.ts): under the warning
// threshold each recording session's desk gets an alert; under the floor every recording
// stops cleanly (its manifest says `disk-full`) and the broadcast goes on untouched. A
// session stopped so is not recorded again before its end, when its archive is queued.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Session } from '../contract/api';
import type { RecordingConfig } from '../config';
import type { TimelineEntry } from '../contract/timeline';
import { DiskWatch, type DiskReading } from './disk-watch';
import { SessionRecording, type RecordingRoom } from './session-recording';

/** What a live session asks of the recorder (a null object when recording is off). */
export interface RecordingPort {
  /** The session, its room (if any) and the host's choice, as they are now. */
  update(session: Session, room: RecordingRoom | undefined, wanted: boolean): Promise<void>;
  /** When the session's recording started, or null when it is not recording. */
  since(sessionId: string): string | null;
  /**
   * Why the session's recording stopped before its end (disk-full), or could not start
   * (failed, until a later start succeeds), if it did.
   */
  stopReason(sessionId: string): string | undefined;
  /** False when recording is switched off for the whole server. */
  readonly available: boolean;
  close(): Promise<void>;
}

export const NO_RECORDING: RecordingPort = {
  update: async () => undefined,
  since: () => null,
  stopReason: () => undefined,
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
  /**
   * Free space ran low (or out) while the session records: the desk is told; `ok` when it is
   * back above the warning threshold while the session still records. Must not throw.
   */
  onDisk?: (e: { sessionId: string; level: DiskReading['level']; freeBytes: number }) => void;
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
  /** Sessions whose recording stopped for want of disk space, with whether anything was recorded. */
  readonly #diskStopped = new Map<string, boolean>();
  /** Sessions whose recording could not start (each later change tries again). */
  readonly #failed = new Set<string>();
  /** The latest start asked for each session; an end (or another start) meanwhile replaces or drops it. */
  readonly #starts = new Map<string, symbol>();
  readonly #disk: DiskWatch;
  #closed = false;

  constructor(o: RecordingsOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'recording' });
    this.#disk = new DiskWatch(
      o.config.dir,
      o.config.disk,
      (r) => this.#diskChanged(r),
      (err) => this.#log.warn({ err }, 'could not read the free disk space of the recordings'),
    );
  }

  #diskChanged(r: DiskReading): void {
    const log = r.level === 'ok' ? this.#log.info.bind(this.#log) : this.#log.warn.bind(this.#log);
    log({ freeBytes: r.freeBytes, level: r.level, dir: this.#o.config.dir }, 'recordings disk space');
    const recording = [...this.#active.keys()];
    if (r.level === 'ok') {
      // Space is back: the desk's alert resolves itself.
      for (const sessionId of recording) this.#tellDisk(sessionId, r);
      return;
    }
    if (r.level === 'full') {
      for (const sessionId of recording) {
        this.#diskStopped.set(sessionId, false);
        void this.#stop(sessionId, true, 'disk-full');
      }
    }
    // Told once the stops have begun: since() already answers null for them.
    for (const sessionId of recording) this.#tellDisk(sessionId, r);
  }

  #tellDisk(sessionId: string, r: DiskReading): void {
    try {
      this.#o.onDisk?.({ sessionId, level: r.level, freeBytes: r.freeBytes });
    } catch (err) {
      this.#log.error({ err, sessionId }, 'the disk alert failed');
    }
  }

  /** A session's folder; the id is the session's, checked by the contract's Id pattern upstream. */
  dirOf(sessionId: string): string {
    return recordingDir(this.#o.config.dir, sessionId);
  }

  since(sessionId: string): string | null {
    return this.#since.get(sessionId) ?? null;
  }

  stopReason(sessionId: string): string | undefined {
    if (this.#diskStopped.has(sessionId)) return 'disk-full';
    return this.#failed.has(sessionId) ? 'failed' : undefined;
  }

  async update(session: Session, room: RecordingRoom | undefined, wanted: boolean): Promise<void> {
    const current = this.#active.get(session.id);
    const shouldRecord = wanted && session.state === 'live' && !this.#closed;
    if (!shouldRecord) {
      this.#starts.delete(session.id);
      this.#failed.delete(session.id);
      if (current) await this.#stop(session.id);
      await this.#stopping.get(session.id);
      const recorded = this.#diskStopped.get(session.id);
      if (this.#diskStopped.delete(session.id) && recorded && session.state !== 'live') this.#o.onStopped?.(session.id);
      return;
    }
    if (!room || this.#diskStopped.has(session.id)) return;
    if (current) {
      (await current)?.attach(room);
      return;
    }
    const log = this.#log.child({ sessionId: session.id });
    const start = Symbol(session.id);
    this.#starts.set(session.id, start);
    await fs.mkdir(this.#o.config.dir, { recursive: true }).catch(() => undefined);
    const disk = await this.#disk.check();
    // Ended, closed or started again by a later update while the disk was read: that one decides.
    if (this.#starts.get(session.id) !== start || this.#closed) return;
    this.#starts.delete(session.id);
    if (this.#diskStopped.has(session.id)) return;
    const meanwhile = this.#active.get(session.id);
    if (meanwhile) {
      (await meanwhile)?.attach(room);
      return;
    }
    if (disk?.level === 'full') {
      log.warn({ freeBytes: disk.freeBytes }, 'not recording: the disk is full');
      this.#diskStopped.set(session.id, false);
      this.#tellDisk(session.id, disk);
      return;
    }
    if (disk && disk.level !== 'ok') this.#tellDisk(session.id, disk);
    this.#disk.start();
    const starting = SessionRecording.start(
      {
        sessionId: session.id,
        title: session.title,
        dir: this.dirOf(session.id),
        segmentSeconds: this.#o.config.segmentSeconds,
        ffmpegPath: this.#o.config.ffmpegPath,
        processes: this.#processes,
        onRecorderDied: () => void this.#disk.check(),
        ip: this.#o.ip,
        timeline: () => this.#o.timeline(session.id),
        log,
      },
      room,
    ).then(
      (rec) => {
        this.#failed.delete(session.id);
        this.#since.set(session.id, rec.startedAt);
        log.info({ dir: this.dirOf(session.id) }, 'recording started');
        return rec;
      },
      (err: unknown) => {
        // The broadcast goes on without it; the next change tries again.
        log.error({ err }, 'could not start recording');
        this.#active.delete(session.id);
        // The console is shown it failed, not starting for ever.
        this.#failed.add(session.id);
        return undefined;
      },
    );
    this.#active.set(session.id, starting);
    await starting;
  }

  #stop(sessionId: string, final = true, reason?: string): Promise<void> {
    const active = this.#active.get(sessionId);
    this.#active.delete(sessionId);
    this.#since.delete(sessionId);
    if (this.#active.size === 0) this.#disk.stop();
    const stopping = (async () => {
      const rec = await active;
      if (!rec) return;
      const m = await rec.stop(final, reason);
      const segments = m.tracks.reduce((n, t) => n + t.segments.length, 0);
      this.#log.info({ sessionId, tracks: m.tracks.length, segments, reason }, 'recording stopped');
      // Stopped early (a full disk): its archive is made once the session ends.
      if (reason) this.#diskStopped.set(sessionId, segments > 0);
      else if (final && segments > 0) this.#o.onStopped?.(sessionId);
    })().finally(() => this.#stopping.delete(sessionId));
    this.#stopping.set(sessionId, stopping);
    return stopping;
  }

  /** Stops every recorder at shutdown (their last segments are written); a restart continues. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#starts.clear();
    this.#disk.stop();
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
