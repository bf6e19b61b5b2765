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
//   hall-media:alive:<process>  string  set with a TTL and refreshed by a timer while that
//                                    process holds fields; once it expires (the process was
//                                    killed), its fields no longer count and are removed
//
// Each refresh writes this process's fields again with its alive key, so a Redis outage
// longer than the TTL (the fields removed as a dead process's meanwhile) heals on the first
// refresh that gets through.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Session } from '../../contract/api';
import { AppError } from '../../errors';
import { canTransition } from './model';

/** Sources that make a hall: what the points see and hear of it. */
export const HALL_SOURCES: readonly string[] = ['host-camera', 'host-mic'];

export const HALL_MEDIA_KEY = (sessionId: string) => `session:${sessionId}:hall-media`;

const ALIVE_KEY = (process: string) => `hall-media:alive:${process}`;

export class HallMedia {
  /** This process's fields, so that closing its room forgets only its own. */
  readonly #process = randomUUID();
  /** The fields this process holds: "<sessionId> <producerId>" → what each refresh writes again. */
  readonly #held = new Map<string, { sessionId: string; producerId: string; source: string }>();
  readonly #ttlMs: number;
  readonly #log: Logger;
  #timer: NodeJS.Timeout | undefined;
  /** A refresh failed and none has succeeded since: warned once per outage. */
  #failing = false;

  /** `ttlMs`: how long this process's fields outlive it; it refreshes them every third of that. */
  constructor(
    private readonly redis: Redis,
    opts: { logger: Logger; ttlMs?: number },
  ) {
    this.#ttlMs = opts.ttlMs ?? 15_000;
    this.#log = opts.logger.child({ component: 'hall-media' });
  }

  /** A producer appeared in this process's room; ignored unless it is the hall's. */
  async added(sessionId: string, producerId: string, source: string): Promise<void> {
    if (!HALL_SOURCES.includes(source)) return;
    this.#held.set(`${sessionId} ${producerId}`, { sessionId, producerId, source });
    this.#keepAlive();
    await this.redis.set(ALIVE_KEY(this.#process), '1', 'PX', this.#ttlMs);
    await this.redis.hset(HALL_MEDIA_KEY(sessionId), `${this.#process}:${producerId}`, source);
  }

  async removed(sessionId: string, producerId: string): Promise<void> {
    this.#forget((k) => k === `${sessionId} ${producerId}`);
    await this.redis.hdel(HALL_MEDIA_KEY(sessionId), `${this.#process}:${producerId}`);
  }

  /** This process's room closed: its producers went with it. */
  async roomClosed(sessionId: string): Promise<void> {
    this.#forget((k) => k.startsWith(`${sessionId} `));
    const key = HALL_MEDIA_KEY(sessionId);
    const mine = (await this.redis.hkeys(key)).filter((f) => f.startsWith(`${this.#process}:`));
    if (mine.length) await this.redis.hdel(key, ...mine);
  }

  /** The hall's sources published now, on any live process; fields of dead ones are removed. */
  async sources(sessionId: string): Promise<string[]> {
    const key = HALL_MEDIA_KEY(sessionId);
    const fields = Object.entries(await this.redis.hgetall(key));
    if (!fields.length) return [];
    const processes = [...new Set(fields.map(([f]) => f.slice(0, f.indexOf(':'))))];
    const alive = await this.redis.mget(...processes.map(ALIVE_KEY));
    const dead = new Set(processes.filter((_, i) => alive[i] === null));
    const gone = fields.filter(([f]) => dead.has(f.slice(0, f.indexOf(':')))).map(([f]) => f);
    if (gone.length) await this.redis.hdel(key, ...gone);
    return [...new Set(fields.filter(([f]) => !gone.includes(f)).map(([, v]) => v))].sort();
  }

  /** Stops refreshing this process's liveness (at shutdown); its fields expire with it. */
  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #keepAlive(): void {
    this.#timer ??= setInterval(() => void this.#refresh(), this.#ttlMs / 3).unref();
  }

  /** The alive key and every held field, written together. */
  async #refresh(): Promise<void> {
    const m = this.redis.multi().set(ALIVE_KEY(this.#process), '1', 'PX', this.#ttlMs);
    for (const h of this.#held.values())
      m.hset(HALL_MEDIA_KEY(h.sessionId), `${this.#process}:${h.producerId}`, h.source);
    try {
      const failed = (await m.exec())?.find(([err]) => err)?.[0];
      if (failed) throw failed;
      if (this.#failing) this.#log.info('hall media refresh works again');
      this.#failing = false;
    } catch (err) {
      // The next tick tries again; meanwhile the fields may lapse, and come back with it.
      if (!this.#failing) this.#log.warn({ err, held: this.#held.size }, 'could not refresh the hall media record');
      this.#failing = true;
    }
  }

  #forget(match: (held: string) => boolean): void {
    for (const k of this.#held.keys()) if (match(k)) this.#held.delete(k);
    if (this.#held.size === 0) this.stop();
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
