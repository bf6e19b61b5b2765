// The room view: the desk sees a point's room. On request from a monitor (a point's detail,
// the video wall), the point's page sends a small JPEG snapshot of its camera every few
// seconds over its socket; the server relays it to the monitors watching that point.
// Snapshots rather than a low video layer through the SFU:
// docs/benchmarks/control-plane.md#the-room-view.
import { z } from 'zod';
import { ROOM_VIEW } from './room-view-limits';
import { defineRequests } from './socket';

const Id = z.string().min(1).max(128);

export { ROOM_VIEW };

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
