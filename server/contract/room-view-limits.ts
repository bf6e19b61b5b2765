// The room view's sizes and timings (server/contract/room-view.ts), apart from its zod
// schemas: a page that only needs these numbers (the point page) loads no zod.
export const ROOM_VIEW = {
  /** The snapshot's size: enough to see a room's state, small enough for 16 on a wall. */
  width: 320,
  height: 180,
  /** One snapshot every this many ms while watched. */
  periodMs: 3000,
  /** A page sends while asked, for this long after the last ask (the desk renews it). */
  leaseMs: 15000,
  /** The desk renews its asks this often. */
  renewMs: 5000,
  /**
   * Largest snapshot accepted (a 320x180 JPEG at quality 0.6 is 5-15 KB); below the
   * sockets' 64 KB message limit, so a larger one is answered rather than cut off.
   */
  maxBytes: 48 * 1024,
  /** Points one monitor page watches at a time (the wall's 4x4 grid). */
  maxWatched: 16,
} as const;
