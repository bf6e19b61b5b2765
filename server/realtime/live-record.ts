// What a live session keeps of itself: its timeline (the host's settings, the floor) and
// its recording. Neither ever fails the broadcast: a failed write is logged.
import type { Logger } from 'pino';
import type { BroadcastRoom } from '../../sfu';
import type { Session } from '../contract/api';
import type { HallSource } from '../contract/broadcast';
import type { RecordingStatus } from '../contract/recording';
import type { ControlPlane } from '../assembly/control-plane';
import { settingsEntries, type LiveSettingsChange } from '../domain/timeline/changes';
import type { RecordingPort } from '../recording/recordings';

export class LiveRecord {
  constructor(
    private readonly sessionId: string,
    private readonly control: Pick<ControlPlane, 'timeline' | 'points'>,
    private readonly recording: RecordingPort,
    private readonly log: Logger,
  ) {}

  /** The host changed settings (at `at`): agenda item, pauses, slides. */
  async settings(change: LiveSettingsChange, session: Session, at: Date): Promise<void> {
    for (const e of settingsEntries(change, session.agenda, at)) await this.control.timeline.record(this.sessionId, e);
  }

  /** A point was given the floor, or lost it. */
  async floor(pointId: string, granted: boolean): Promise<void> {
    const at = new Date().toISOString();
    const name = (await this.control.points.get(pointId).catch(() => undefined))?.name ?? pointId;
    await this.control.timeline.record(this.sessionId, { type: 'floor', at, pointId, name, granted });
  }

  /** The points receive the hall's camera and microphone from another source (null: none). */
  async hall(source: HallSource | null): Promise<void> {
    await this.control.timeline.record(this.sessionId, { type: 'hall', at: new Date().toISOString(), source });
  }

  /** Starts, follows or stops the recording for the session, its room and the host's choice. */
  async media(session: Session, room: BroadcastRoom | undefined, wanted: boolean): Promise<void> {
    await this.recording
      .update(session, room && !room.closed ? room : undefined, wanted)
      .catch((err: unknown) => this.log.error({ err }, 'recording update failed'));
  }

  status(wanted: boolean): RecordingStatus {
    const stopReason = this.recording.stopReason(this.sessionId);
    return {
      on: this.recording.available && wanted,
      since: this.recording.since(this.sessionId),
      ...(stopReason ? { stopReason } : {}),
    };
  }
}
