// Whether the provincial hall publishes media into a session: the one condition for going
// live. A briefing made live with no hall leaves every point watching an empty screen and
// the console with nothing left to publish, so the server refuses it whatever asks (the
// REST API or the console's socket).
//
// The hall's producers live in the room of the node the console is connected to; the
// record is in Redis so that any node can answer (a REST call reaches a control node).
//
// Keys:
//   session:<id>:hall-media   hash   "<process>:<producerId>" → source, one field per
//                                    hall producer (camera or microphone) of each process
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Session } from '../../contract/api';
import { AppError } from '../../errors';
import { canTransition } from './model';

/** Sources that make a hall: what the points see and hear of it. */
export const HALL_SOURCES: readonly string[] = ['host-camera', 'host-mic'];

export const HALL_MEDIA_KEY = (sessionId: string) => `session:${sessionId}:hall-media`;

export class HallMedia {
  /** This process's fields, so that closing its room forgets only its own. */
  readonly #process = randomUUID();

  constructor(private readonly redis: Redis) {}

  /** A producer appeared in this process's room; ignored unless it is the hall's. */
  async added(sessionId: string, producerId: string, source: string): Promise<void> {
    if (!HALL_SOURCES.includes(source)) return;
    await this.redis.hset(HALL_MEDIA_KEY(sessionId), `${this.#process}:${producerId}`, source);
  }

  async removed(sessionId: string, producerId: string): Promise<void> {
    await this.redis.hdel(HALL_MEDIA_KEY(sessionId), `${this.#process}:${producerId}`);
  }

  /** This process's room closed: its producers went with it. */
  async roomClosed(sessionId: string): Promise<void> {
    const key = HALL_MEDIA_KEY(sessionId);
    const mine = (await this.redis.hkeys(key)).filter((f) => f.startsWith(`${this.#process}:`));
    if (mine.length) await this.redis.hdel(key, ...mine);
  }

  /** The hall's sources published now, on any node. */
  async sources(sessionId: string): Promise<string[]> {
    return [...new Set(await this.redis.hvals(HALL_MEDIA_KEY(sessionId)))].sort();
  }

  /**
   * Throws `no_hall_media` unless the hall publishes a camera or a microphone. A session
   * that cannot go live anyway (a draft, one that ended) is left to the state change to refuse.
   */
  async requireToStart(session: Pick<Session, 'id' | 'state'>): Promise<void> {
    if (!canTransition(session.state, 'live')) return;
    if ((await this.sources(session.id)).length > 0) return;
    throw new AppError('no_hall_media', 'the hall publishes no camera or microphone yet: turn them on in the console', {
      details: { sources: HALL_SOURCES },
    });
  }
}
