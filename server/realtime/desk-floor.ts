// The desk's hold on the floor: the floor's microphone muted at the SFU (its producer
// paused, so every point stops hearing it and the speaking point's page says so; one it
// publishes again starts paused until the desk unmutes or the floor changes hands), and the
// monitor's floor controls for hosts and admins: give the floor to any connected point
// (hand raised or not), mute it, take it back. The console does the same through `/host`.
import type { Logger } from 'pino';
import type { BroadcastView } from '../contract/broadcast';
import type { Role } from '../contract/api';
import type { DeskFloor } from '../contract/desk';
import { AppError, conflict, forbidden, why } from '../errors';
import { floorMic } from './floor-mic';
import type { LiveSession } from './live-session';
import type { OnAirView } from './on-air';

/** Who may change the floor from the monitor (a technician watches only). */
const FLOOR_ROLES: readonly Role[] = ['host', 'admin'];

/** Pauses or resumes the floor's microphone; everyone's view says so. */
export async function muteFloor(live: LiveSession, muted: boolean): Promise<BroadcastView> {
  const room = live.room;
  const holder = room?.floorHolder;
  if (!room || !holder) throw conflict('no point holds the floor on this server', undefined, why('no_floor'));
  const mic = floorMic(room, holder);
  if (!mic) throw conflict('the point holding the floor has no microphone yet', undefined, why('no_floor_mic'));
  // Kept, so that a microphone the point closes and publishes again starts paused.
  await live.setFloorMutedByDesk(muted);
  if (muted) await room.pauseProducer(holder, mic.producer.id);
  else await room.resumeProducer(holder, mic.producer.id);
  return live.pushView();
}

/** The monitor's floor controls, on the sessions this process has on the air. */
export class DeskFloorControl {
  readonly #log: Logger;

  constructor(
    private readonly onAir: OnAirView,
    logger: Logger,
  ) {
    this.#log = logger.child({ component: 'desk-floor' });
  }

  async state(sessionId: string, role: Role): Promise<DeskFloor> {
    const live = await this.#peek(sessionId);
    return this.#answer(live ? await live.view() : undefined, role);
  }

  async grant(sessionId: string, role: Role, pointId: string): Promise<DeskFloor> {
    return this.#answer(await (await this.#live(sessionId, role)).floor.grant(pointId), role);
  }

  async mute(sessionId: string, role: Role, muted: boolean): Promise<DeskFloor> {
    return this.#answer(await muteFloor(await this.#live(sessionId, role), muted), role);
  }

  async revoke(sessionId: string, role: Role): Promise<DeskFloor> {
    return this.#answer(await (await this.#live(sessionId, role)).floor.revoke(), role);
  }

  async #live(sessionId: string, role: Role): Promise<LiveSession> {
    if (!FLOOR_ROLES.includes(role)) throw forbidden('only hosts and admins give or take the floor');
    const live = await this.#peek(sessionId);
    if (!live || live.closed) throw new AppError('not_open', 'the briefing is not live', why('not_live'));
    return live;
  }

  /** The session on the air here, if any; a room that failed to open is an error, not "offline". */
  async #peek(sessionId: string): Promise<LiveSession | undefined> {
    try {
      return await this.onAir.peek(sessionId);
    } catch (err) {
      this.#log.warn({ err, sessionId }, 'could not look up the live room');
      throw new AppError('internal', 'the live room could not be reached', { cause: err });
    }
  }

  #answer(v: BroadcastView | undefined, role: Role): DeskFloor {
    return { state: v?.state ?? 'offline', floor: v?.floor ?? null, mayControl: FLOOR_ROLES.includes(role) };
  }
}
