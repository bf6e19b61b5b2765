// The room view: the desk sees a point's room. On request from a monitor (a point's detail,
// the video wall), the point's page sends a small JPEG snapshot of its camera every few
// seconds over its socket; the server relays it to the monitors watching that point.
// Snapshots rather than a low video layer through the SFU: docs/benchmarks.md#the-room-view.
import { z } from 'zod';
import { defineRequests } from './socket';

const Id = z.string().min(1).max(128);

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

/** Bytes on the wire: a Buffer on the server, an ArrayBuffer or typed array in the browser. */
const Bytes = z.custom<Uint8Array | ArrayBuffer>(
  (v) => v instanceof Uint8Array || v instanceof ArrayBuffer,
  'expected binary data',
);

/** `/monitor`: which points this page watches (replaces the previous set; empty stops). */
export const roomViewMonitorRequests = defineRequests({
  'roomview:watch': {
    input: z
      .object({
        sessionId: Id,
        pointIds: z.array(Id).max(ROOM_VIEW.maxWatched),
      })
      .strict(),
    output: z.object({ pointIds: z.array(Id) }),
  },
});
export type RoomViewMonitorRequests = typeof roomViewMonitorRequests;

/** Why a page asked for its room sends no snapshot: no camera, or the camera refused to it. */
export const ROOM_VIEW_UNAVAILABLE = ['no-camera', 'refused'] as const;
export type RoomViewUnavailableReason = (typeof ROOM_VIEW_UNAVAILABLE)[number];

/**
 * `/point`: the page's snapshot, sent only while asked; or, instead, that it cannot send
 * one (the desk shows "no camera" rather than waiting).
 */
export const roomViewPointRequests = defineRequests({
  'roomview:frame': {
    input: z
      .object({ jpeg: Bytes, width: z.number().int().min(1).max(4096), height: z.number().int().min(1).max(4096) })
      .strict(),
    output: z.object({}),
  },
  'roomview:unavailable': {
    input: z.object({ reason: z.enum(ROOM_VIEW_UNAVAILABLE) }).strict(),
    output: z.object({}),
  },
});
export type RoomViewPointRequests = typeof roomViewPointRequests;

export const RoomViewFrameSchema = z.object({
  sessionId: Id,
  pointId: Id,
  at: z.string().max(40),
  width: z.number().int(),
  height: z.number().int(),
  jpeg: Bytes,
});
export type RoomViewFrame = z.infer<typeof RoomViewFrameSchema>;

export const RoomViewUnavailableSchema = z.object({
  sessionId: Id,
  pointId: Id,
  at: z.string().max(40),
  reason: z.enum(ROOM_VIEW_UNAVAILABLE),
});
export type RoomViewUnavailable = z.infer<typeof RoomViewUnavailableSchema>;

/** Pushes to the monitor: a watched point's snapshot, or that it has no camera to send one. */
export const roomViewMonitorPushes = {
  'roomview:frame': RoomViewFrameSchema,
  'roomview:unavailable': RoomViewUnavailableSchema,
};
export type RoomViewMonitorPushes = typeof roomViewMonitorPushes;

/** Pushes to a point's page: send snapshots (for `forMs` from now, every `periodMs`), or stop. */
export const roomViewPointPushes = {
  'roomview:on': z.object({ periodMs: z.number().int(), forMs: z.number().int() }),
  'roomview:off': z.object({}),
};
export type RoomViewPointPushes = typeof roomViewPointPushes;
