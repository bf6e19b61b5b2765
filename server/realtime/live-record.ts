// What a live session keeps of itself: its timeline (the host's settings, the floor, the
// hall's source) and its recording, which follows the session and its room. Neither ever
// fails the broadcast: a failed write is logged.
import type { Logger } from 'pino';
import type { BroadcastRoom } from '../../sfu';
import type { Session } from '../contract/api';
import type { HallSource } from '../contract/broadcast';
import type { RecordingStatus } from '../contract/recording';
import type { ControlPlane } from '../assembly/control-plane';
import { settingsEntries, type LiveSettingsChange } from '../domain/timeline/changes';
import type { RecordingPort } from '../recording/recordings';

/** The session as the recording follows it, read when it changes. */
export interface RecordedSession {
  session: Session;
  room: BroadcastRoom | undefined;
  /** The host's choice to record. */
  wanted: boolean;
}

export interface LiveRecordDeps {
  sessionId: string;
  control: Pick<ControlPlane, 'timeline' | 'points'>;
  /** Records the live session's media (NO_RECORDING when recording is off). */
  recording: RecordingPort;
  log: Logger;
  /**
   * Whether this node's rooms make the hall (a single node, the origin) rather than
   * mirror another node's (an edge): only such a node writes the hall's source.
   */
  makesHall: boolean;
  now: () => RecordedSession;
  /** The recording's state changed (started, or not for a full disk): the hosts are shown it. */
  changed: () => Promise<unknown> | undefined;
}

export class LiveRecord {
  readonly #d: LiveRecordDeps;

  constructor(deps: LiveRecordDeps) {
    this.#d = deps;
  }

  /** The host changed settings (at `at`): agenda item, pauses, slides. */
  async settings(change: LiveSettingsChange, session: Session, at: Date): Promise<void> {
    const { control, sessionId } = this.#d;
    for (const e of settingsEntries(change, session.agenda, at)) await control.timeline.record(sessionId, e);
  }

  /** A point was given the floor, or lost it. */
  async floor(pointId: string, granted: boolean): Promise<void> {
    const { control, sessionId } = this.#d;
    const at = new Date().toISOString();
    const name = (await control.points.get(pointId).catch(() => undefined))?.name ?? pointId;
    await control.timeline.record(sessionId, { type: 'floor', at, pointId, name, granted });
  }

  /**
   * The points receive the hall's camera and microphone from another source (null: none).
   * Written by the node that makes the hall only: an edge's room loses and regains the
   * piped hall with its pipe (its upstream gone, a worker rebuilt), which is no change of
   * the hall's source, and adopts the hall's producers one by one in the upstream's order.
   */
  async hall(source: HallSource | null): Promise<void> {
    if (!this.#d.makesHall) return;
    await this.#d.control.timeline.record(this.#d.sessionId, { type: 'hall', at: new Date().toISOString(), source });
  }

  /** Timeline entries of the room's events: the floor given and taken back. */
  watch(room: BroadcastRoom): void {
    room.on('floorGranted', ({ peerId }) => void this.floor(peerId, true));
    room.on('floorRevoked', ({ peerId }) => void this.floor(peerId, false));
  }

  /**
   * Starts, follows or stops the recording for the session and room as they are now,
   * without waiting: a slow or hung recordings disk never holds the broadcast. Once the
   * recording's state changed, `changed` is called.
   */
  follow(): void {
    const { recording, log } = this.#d;
    const { session, room, wanted } = this.#d.now();
    const status = () => JSON.stringify(this.status(this.#d.now().wanted));
    const before = status();
    void recording
      .update(session, room && !room.closed ? room : undefined, wanted)
      .catch((err: unknown) => log.error({ err }, 'recording update failed'))
      .then(() => (status() === before ? undefined : this.#d.changed()))
      .catch((err: unknown) => log.warn({ err }, 'could not show the recording state'));
  }

  status(wanted: boolean): RecordingStatus {
    const { recording, sessionId } = this.#d;
    const stopReason = recording.stopReason(sessionId);
    return {
      on: recording.available && wanted,
      since: recording.since(sessionId),
      ...(stopReason ? { stopReason } : {}),
    };
  }
}
