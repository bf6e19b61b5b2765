// Talking to a point: the text channel between the desk (the monitor's technicians and the
// host console) and each connection point, and the desk's hold on the floor (give it to
// any connected point, mute its microphone, take it back). Messages are kept with the
// session; a point reads what it sent and what the desk sent to it, its district or all.
// Imports only zod: the browser imports this file (its limits, zod-free: desk-limits.ts).
import { z } from 'zod';
import { TALK_TEXT_MAX } from './desk-limits';
import { defineRequests } from './socket';

const Id = z.string().min(1).max(128);
const Iso = z.string().max(40);

export * from './desk-limits';

export const TalkTextSchema = z.string().trim().min(1).max(TALK_TEXT_MAX);

/** Whom the desk writes to: one point, every invited point of a district, or every point. */
export const TalkTargetSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('point'), pointId: Id }).strict(),
  z.object({ kind: z.literal('district'), district: Id }).strict(),
  z.object({ kind: z.literal('all') }).strict(),
]);
export type TalkTarget = z.infer<typeof TalkTargetSchema>;

export const TalkMessageSchema = z.object({
  id: Id,
  sessionId: Id,
  at: Iso,
  from: z.enum(['point', 'desk']),
  /** A point's message: that point; a desk's: null. */
  pointId: Id.nullable(),
  /** Who wrote it: the desk's username, or the point's name. */
  by: z.string(),
  /** A desk's message: to whom; a point's: null (it goes to the desk). */
  to: TalkTargetSchema.nullable(),
  text: z.string(),
});
export type TalkMessage = z.infer<typeof TalkMessageSchema>;

/** Whether a message belongs to a point's conversation (`district`: the point's district code). */
export function talkReaches(m: TalkMessage, pointId: string, district: string | null | undefined): boolean {
  if (m.from === 'point') return m.pointId === pointId;
  const to = m.to;
  if (!to) return false;
  if (to.kind === 'all') return true;
  if (to.kind === 'point') return to.pointId === pointId;
  return !!district && to.district === district;
}

const Empty = z.object({}).strict().optional();
const SessionRef = z.object({ sessionId: Id }).strict();
const History = z.object({ messages: z.array(TalkMessageSchema) });

/** The point page's requests (`/point`; the point is its join token's). */
export const pointTalkRequests = defineRequests({
  'talk:send': { input: z.object({ text: TalkTextSchema }).strict(), output: TalkMessageSchema },
  /** Its conversation with the desk, oldest first (on every connect: a reload keeps it). */
  'talk:history': { input: Empty, output: History },
});
export type PointTalkRequests = typeof pointTalkRequests;

/** Who holds the floor and whether its microphone is muted; `mayControl`: this account may change it. */
export const DeskFloorSchema = z.object({
  state: z.string(),
  floor: z.object({ pointId: Id, name: z.string(), muted: z.boolean() }).nullable(),
  mayControl: z.boolean(),
});
export type DeskFloor = z.infer<typeof DeskFloorSchema>;

/** The monitor's requests (`/monitor`): talk, and the floor for hosts and admins. */
export const monitorDeskRequests = defineRequests({
  'talk:send': {
    input: SessionRef.extend({ to: TalkTargetSchema, text: TalkTextSchema }).strict(),
    output: TalkMessageSchema,
  },
  /** A point's conversation; reading it marks the point's messages read for every desk. */
  'talk:history': { input: SessionRef.extend({ pointId: Id }).strict(), output: History },
  /** Points with messages the desk has not read yet, and how many. */
  'talk:unread': { input: SessionRef, output: z.record(z.string(), z.number().int()) },
  'floor:state': { input: SessionRef, output: DeskFloorSchema },
  /** Gives the floor to a connected point, hand raised or not. */
  'floor:grant': { input: SessionRef.extend({ pointId: Id }).strict(), output: DeskFloorSchema },
  'floor:mute': { input: SessionRef.extend({ muted: z.boolean() }).strict(), output: DeskFloorSchema },
  'floor:revoke': { input: SessionRef, output: DeskFloorSchema },
});
export type MonitorDeskRequests = typeof monitorDeskRequests;

/** What the console shows without a point: the session's latest messages. */
export const TALK_CONSOLE_RECENT = 200;

/** The host console's (`/host`; the session is the one it is attached to). */
export const hostTalkRequests = defineRequests({
  'talk:send': { input: z.object({ to: TalkTargetSchema, text: TalkTextSchema }).strict(), output: TalkMessageSchema },
  /** A point's conversation; without `pointId`, the session's latest TALK_CONSOLE_RECENT messages. */
  'talk:history': { input: z.object({ pointId: Id.optional() }).strict(), output: History },
});
export type HostTalkRequests = typeof hostTalkRequests;

/** A message, to the pages it concerns. */
export const talkPushes = { talk: TalkMessageSchema };
/** The monitor's: also when a desk read a point's messages (its unread marker goes). */
export const monitorTalkPushes = {
  ...talkPushes,
  'talk:read': z.object({ sessionId: Id, pointId: Id }),
};
