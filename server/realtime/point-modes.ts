// What each point receives of the hall's video (full, low, audio only), chosen on its page
// or by the desk from the monitor, and kept for the session: a page that reconnects or
// reloads gets its mode back instead of full video. The choice is stored in Redis, so
// every node reads the same; the desk's choice reaches the point's page through its
// Socket.IO room (carried by the Redis adapter to the node that serves the point), and
// the page applies it as if chosen there.
//
// Redis keys:
//   mode:{sessionId}   hash  pointId → JSON { mode, by, at }
import type { Redis } from 'ioredis';
import type { PointMode, ViewerMode } from '../contract/broadcast';
import type { PointNamespace } from './sockets';

const KEEP_SECONDS = 30 * 24 * 3600;
const key = (sessionId: string) => `mode:${sessionId}`;

/** The Socket.IO room of one point's page(s). */
export const pointRoom = (sessionId: string, pointId: string) => `s:${sessionId}:p:${pointId}`;

/** The Socket.IO room of every point page of a session (joined when a page attaches). */
export const pointsRoom = (sessionId: string) => `s:${sessionId}:points`;

/** The desk asks one point's page, or every page of the session, to run its pre-flight check. */
export function askPreflight(pointNs: PointNamespace, sessionId: string, pointId?: string): void {
  pointNs.to(pointId ? pointRoom(sessionId, pointId) : pointsRoom(sessionId)).emit('preflight:run', {});
}

export class PointModes {
  constructor(
    private readonly redis: Redis,
    readonly pointNs: PointNamespace,
  ) {}

  /** The point's mode; full when nobody chose one. */
  async get(sessionId: string, pointId: string): Promise<PointMode> {
    const raw = await this.redis.hget(key(sessionId), pointId);
    if (!raw) return { mode: 'full', by: 'point', at: null };
    return JSON.parse(raw) as PointMode;
  }

  /** Stores the choice; a desk's choice is also sent to the point's page to apply. */
  async set(sessionId: string, pointId: string, mode: ViewerMode, by: PointMode['by']): Promise<PointMode> {
    const m: PointMode = { mode, by, at: new Date().toISOString() };
    await this.redis
      .multi()
      .hset(key(sessionId), pointId, JSON.stringify(m))
      .expire(key(sessionId), KEEP_SECONDS)
      .exec();
    if (by === 'desk') this.pointNs.to(pointRoom(sessionId, pointId)).emit('mode', m);
    return m;
  }
}
