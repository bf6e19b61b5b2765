// The room view (server/contract/room-view.ts): monitors say which points they watch; the
// points watched are asked to send a snapshot of their room every few seconds, and each
// snapshot is relayed to the monitors watching that point, nowhere else. A page with no
// camera (or refused one) says so instead, and that is relayed the same way.
//
// An ask is a lease: a page sends for `leaseMs` after the last ask, and this process renews
// the asks of the points its monitors watch every `renewMs`, so a monitor that vanishes
// (closed tab, dead node) stops the sending within a lease. The lease is also kept in Redis,
// so the node serving the point (maybe not the monitor's) accepts its snapshots only while
// some desk watches it, and tells a page that reconnects to carry on.
//
// Redis keys:
//   roomview:{sessionId}   hash  pointId → until (epoch ms)
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { ROOM_VIEW, roomViewMonitorRequests, roomViewPointRequests } from '../contract/room-view';
import type { SessionState } from '../contract/session-state';
import { AppError } from '../errors';
import { pointRoom } from './point-modes';
import { bindRequests, type RateLimit } from './requests';
import type { MonitorNamespace, PointNamespace } from './sockets';

export interface RoomViewsDeps {
  pointNs: PointNamespace;
  monitorNs: MonitorNamespace;
  redis: Redis;
  /** Throws `not_found` unless the point is invited to the session. */
  requireInvited: (sessionId: string, pointId: string) => Promise<void>;
  /** The session's state, undefined if there is none. */
  sessionState: (sessionId: string) => Promise<SessionState | undefined>;
  logger: Logger;
  /** Timings (tests shorten them); the contract's by default. */
  timing?: Partial<Pick<typeof ROOM_VIEW, 'periodMs' | 'leaseMs' | 'renewMs'>>;
}

const key = (sessionId: string) => `roomview:${sessionId}`;
const watchRoom = (sessionId: string, pointId: string) => `rv:${sessionId}:p:${pointId}`;
const SEP = '\u0000';
/** A snapshot every few seconds, some slack for a page catching up after a stall. */
const FRAME_LIMIT: RateLimit = { perSecond: 2, burst: 6, disconnectAfter: 60 };

/** Rooms are shown while points gather or follow the briefing, not before or after. */
const VIEWABLE: readonly SessionState[] = ['lobby', 'live'];

/** JPEG files start with SOI and another marker. */
const isJpeg = (b: Uint8Array) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

export class RoomViews {
  readonly #deps: RoomViewsDeps;
  readonly #log: Logger;
  readonly #timing: Pick<typeof ROOM_VIEW, 'periodMs' | 'leaseMs' | 'renewMs'>;
  /** Monitor pages of this process watching each session\0point. */
  readonly #watchers = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;

  constructor(deps: RoomViewsDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'room-view' });
    this.#timing = {
      periodMs: ROOM_VIEW.periodMs,
      leaseMs: ROOM_VIEW.leaseMs,
      renewMs: ROOM_VIEW.renewMs,
      ...deps.timing,
    };
    this.#timer = setInterval(() => this.#renewAll(), this.#timing.renewMs);
    this.#timer.unref();
    deps.monitorNs.on('connection', (socket) => this.#onMonitor(socket));
    deps.pointNs.on('connection', (socket) => this.#onPoint(socket));
  }

  close(): void {
    clearInterval(this.#timer);
    this.#watchers.clear();
  }

  #onMonitor(socket: Parameters<Parameters<MonitorNamespace['on']>[1]>[0]): void {
    let watching: { sessionId: string; pointIds: Set<string> } = { sessionId: '', pointIds: new Set() };
    let gone = false;
    const log = this.#log.child({ user: socket.data.user?.username });
    bindRequests(
      socket,
      roomViewMonitorRequests,
      {
        'roomview:watch': async ({ sessionId, pointIds }) => {
          const wanted = new Set(pointIds);
          // Showing rooms needs the session watched and gathering or live; showing none
          // (leaving a session for another) is always allowed.
          if (wanted.size > 0) await this.#requireViewable(socket.data.watching, sessionId);
          await Promise.all([...wanted].map((p) => this.#deps.requireInvited(sessionId, p)));
          if (gone) throw new AppError('conflict', 'the monitor has disconnected');
          // From here to the first await nothing else runs on this socket: the counts and the
          // rooms change together, so an overlapping watch or a disconnect sees them whole.
          const before = watching;
          watching = { sessionId, pointIds: wanted };
          const kept = before.sessionId === sessionId ? before.pointIds : new Set<string>();
          const dropped = [...before.pointIds].filter((p) => !kept.has(p) || !wanted.has(p));
          const added = [...wanted].filter((p) => !kept.has(p));
          for (const p of dropped) this.#count(before.sessionId, p, -1);
          for (const p of added) this.#count(sessionId, p, +1);
          await Promise.all([
            ...dropped.map((p) => socket.leave(watchRoom(before.sessionId, p))),
            ...added.map((p) => socket.join(watchRoom(sessionId, p))),
          ]);
          log.debug({ sessionId, pointIds: [...wanted] }, 'room view watched');
          return { pointIds: [...wanted] };
        },
      },
      {},
      log,
    );
    socket.on('disconnect', () => {
      gone = true;
      const { sessionId, pointIds } = watching;
      watching = { sessionId: '', pointIds: new Set() };
      for (const p of pointIds) this.#count(sessionId, p, -1);
    });
  }

  async #requireViewable(watching: string | undefined, sessionId: string): Promise<void> {
    if (watching !== sessionId) throw new AppError('bad_request', 'watch the session first');
    const state = await this.#deps.sessionState(sessionId);
    if (state && !VIEWABLE.includes(state))
      throw new AppError('not_open', `the session is ${state}: rooms are shown in the lobby or live`);
  }

  #onPoint(socket: Parameters<Parameters<PointNamespace['on']>[1]>[0]): void {
    const { sessionId, pointId } = socket.data;
    const log = this.#log.child({ sessionId, pointId });
    // A page back after a cut carries on if some desk still watches it.
    this.#until(sessionId, pointId).then(
      (until) => {
        const left = until - Date.now();
        if (left > 0) socket.emit('roomview:on', { periodMs: this.#timing.periodMs, forMs: left });
      },
      (err: unknown) => log.warn({ err }, 'could not read the room view lease'),
    );
    bindRequests(
      socket,
      roomViewPointRequests,
      {
        'roomview:frame': async ({ jpeg, width, height }) => {
          const bytes = jpeg instanceof Uint8Array ? jpeg : new Uint8Array(jpeg);
          if (bytes.byteLength > ROOM_VIEW.maxBytes)
            throw new AppError('payload_too_large', `a snapshot is at most ${ROOM_VIEW.maxBytes} bytes`);
          if (!isJpeg(bytes)) throw new AppError('bad_request', 'a snapshot is a JPEG image');
          if ((await this.#until(sessionId, pointId)) < Date.now())
            throw new AppError('forbidden', 'no desk is watching this room');
          this.#deps.monitorNs.to(watchRoom(sessionId, pointId)).emit('roomview:frame', {
            sessionId,
            pointId,
            at: new Date().toISOString(),
            width,
            height,
            jpeg: bytes,
          });
          return {};
        },
        'roomview:unavailable': async ({ reason }) => {
          if ((await this.#until(sessionId, pointId)) < Date.now())
            throw new AppError('forbidden', 'no desk is watching this room');
          log.info({ reason }, 'room view unavailable');
          this.#deps.monitorNs
            .to(watchRoom(sessionId, pointId))
            .emit('roomview:unavailable', { sessionId, pointId, at: new Date().toISOString(), reason });
          return {};
        },
      },
      socket.data,
      log,
      FRAME_LIMIT,
    );
  }

  async #until(sessionId: string, pointId: string): Promise<number> {
    return Number((await this.#deps.redis.hget(key(sessionId), pointId)) ?? 0);
  }

  #count(sessionId: string, pointId: string, by: 1 | -1): void {
    const k = sessionId + SEP + pointId;
    const n = (this.#watchers.get(k) ?? 0) + by;
    if (n > 0) {
      this.#watchers.set(k, n);
      if (n === 1 && by === 1) void this.#ask(sessionId, pointId);
      return;
    }
    this.#watchers.delete(k);
    void this.#stop(sessionId, pointId);
  }

  #renewAll(): void {
    for (const k of this.#watchers.keys()) {
      const [sessionId, pointId] = k.split(SEP) as [string, string];
      void this.#ask(sessionId, pointId);
    }
  }

  async #ask(sessionId: string, pointId: string): Promise<void> {
    const { leaseMs, periodMs } = this.#timing;
    try {
      await this.#deps.redis
        .multi()
        .hset(key(sessionId), pointId, String(Date.now() + leaseMs))
        .pexpire(key(sessionId), leaseMs * 2)
        .exec();
      this.#deps.pointNs.to(pointRoom(sessionId, pointId)).emit('roomview:on', { periodMs, forMs: leaseMs });
    } catch (err) {
      this.#log.warn({ err, sessionId, pointId }, 'could not ask for a room view');
    }
  }

  /**
   * Nobody here watches any more. Another node's desk may still: its next renewal asks
   * again, within `renewMs`.
   */
  async #stop(sessionId: string, pointId: string): Promise<void> {
    try {
      await this.#deps.redis.hdel(key(sessionId), pointId);
      this.#deps.pointNs.to(pointRoom(sessionId, pointId)).emit('roomview:off', {});
    } catch (err) {
      this.#log.warn({ err, sessionId, pointId }, 'could not stop a room view');
    }
  }
}
