// The streams a room carries, one list for the server, the pages and the recordings.
// sfu/ keeps the same union as its own type (it imports nothing of ours);
// server/realtime/rtc-handlers.ts checks they agree. Imports only zod.
import { z } from 'zod';

/**
 * Every stream a room carries: the hall's camera, microphone and screen (slides), and the
 * camera and microphone of the point holding the floor.
 */
export const MEDIA_SOURCES = ['host-camera', 'host-mic', 'host-screen', 'floor-camera', 'floor-mic'] as const;
export const MediaSourceSchema = z.enum(MEDIA_SOURCES);
export type MediaSource = z.infer<typeof MediaSourceSchema>;
/** The streams of the point holding the floor. */
export const FloorSourceSchema = MediaSourceSchema.extract(['floor-camera', 'floor-mic']);
/** The hall's own streams, there for the whole briefing (the floor's come and go). */
export const HALL_SOURCES = MediaSourceSchema.exclude(['floor-camera', 'floor-mic']).options;
/** Where the hall's camera and microphone come from: the console, an encoder over WHIP, an ingest (RTP, RTMP, SRT). */
export const HallSourceSchema = z.enum(['console', 'whip', 'ingest']);
export type HallSource = z.infer<typeof HallSourceSchema>;
