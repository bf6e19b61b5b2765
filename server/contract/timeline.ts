// The record of a briefing: every change the host or the server makes while a session runs,
// with its instant. The report's timeline (and a recording's chapters) are built from it.
import { z } from 'zod';
import { HallSourceSchema } from './media-sources';
import { SESSION_STATES } from './session-state';

const Iso = z.string().max(40);
const States = z.enum(SESSION_STATES);

export const TimelineEntrySchema = z.discriminatedUnion('type', [
  /** The session moved from one state to another (by a host, or `system` for a job). */
  z.object({ type: z.literal('state'), at: Iso, from: States.nullable(), to: States, by: z.string().max(120) }),
  /** The host moved to an agenda item (its title as it was then). */
  z.object({
    type: z.literal('agenda'),
    at: Iso,
    index: z.number().int().min(0),
    itemId: z.string().max(200),
    title: z.string().max(300),
    speaker: z.string().max(200),
  }),
  /** The hall's camera or microphone paused (true) or resumed (false). */
  z.object({ type: z.literal('pause'), at: Iso, kind: z.enum(['video', 'audio']), paused: z.boolean() }),
  /** The slides shown to the points (true) or taken off (false). */
  z.object({ type: z.literal('slides'), at: Iso, on: z.boolean() }),
  /** A point given the floor (true) or losing it (false: taken back, or the point left). */
  z.object({
    type: z.literal('floor'),
    at: Iso,
    pointId: z.string().max(64),
    name: z.string().max(300),
    granted: z.boolean(),
  }),
  /** The source of the hall's camera and microphone the points receive from now (null: none publishes). */
  z.object({ type: z.literal('hall'), at: Iso, source: HallSourceSchema.nullable() }),
]);
export type TimelineEntry = z.infer<typeof TimelineEntrySchema>;

/** A point given the floor during an agenda item, clipped to the item. */
export const FloorSpanSchema = z.object({
  pointId: z.string(),
  name: z.string(),
  from: Iso,
  to: Iso,
  seconds: z.number(),
});
export type FloorSpan = z.infer<typeof FloorSpanSchema>;

/** One stretch of an agenda item on the air (an item the host came back to has two). */
export const ItemSpanSchema = z.object({
  index: z.number().int(),
  title: z.string(),
  speaker: z.string(),
  startedAt: Iso,
  endedAt: Iso,
  seconds: z.number(),
  floor: z.array(FloorSpanSchema),
});
export type ItemSpan = z.infer<typeof ItemSpanSchema>;

export const ReportTimelineSchema = z.object({
  /** The agenda items as they were on the air, in order. */
  items: z.array(ItemSpanSchema),
  /** Every recorded change, oldest first. */
  entries: z.array(TimelineEntrySchema),
});
export type ReportTimeline = z.infer<typeof ReportTimelineSchema>;
