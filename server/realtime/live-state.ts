// What the host has set during a live session that must survive a server restart:
// the current agenda item, camera/microphone paused, slides on, recording wanted; and each point's latest
// pre-flight report (read by the monitor).
//
// Redis keys:
//   live:{sessionId}        hash  agendaIndex, pausedVideo, pausedAudio, slidesOn, recording, hall,
//                                 floorMutedByDesk
//   preflight:{sessionId}   hash  pointId → JSON PreflightReport + at
import type { Redis } from 'ioredis';
import { HallChoiceSchema, type HallChoice, type PreflightReport } from '../contract/broadcast';

export interface LiveState {
  agendaIndex: number | null;
  pausedVideo: boolean;
  pausedAudio: boolean;
  slidesOn: boolean;
  /** The host's choice before going live; on unless turned off. */
  recording: boolean;
  /** The hall's source the host chose (hall-source.ts). */
  hall: HallChoice;
  /** The desk muted the floor's microphone: one its holder publishes again starts paused. */
  floorMutedByDesk: boolean;
}

export const LIVE_KEYS = {
  live: (sessionId: string) => `live:${sessionId}`,
  preflight: (sessionId: string) => `preflight:${sessionId}`,
};

/** Kept after the session ends, for the report, then expires. */
const KEEP_SECONDS = 30 * 24 * 3600;

export class LiveStateStore {
  constructor(private readonly redis: Redis) {}

  async get(sessionId: string): Promise<LiveState> {
    const h = await this.redis.hgetall(LIVE_KEYS.live(sessionId));
    return {
      agendaIndex: h.agendaIndex !== undefined && h.agendaIndex !== '' ? Number(h.agendaIndex) : null,
      pausedVideo: h.pausedVideo === '1',
      pausedAudio: h.pausedAudio === '1',
      slidesOn: h.slidesOn === '1',
      recording: h.recording !== '0',
      hall: HallChoiceSchema.catch('auto').parse(h.hall),
      floorMutedByDesk: h.floorMutedByDesk === '1',
    };
  }

  async set(sessionId: string, patch: Partial<LiveState>): Promise<void> {
    const fields: Record<string, string> = {};
    if (patch.agendaIndex !== undefined)
      fields.agendaIndex = patch.agendaIndex === null ? '' : String(patch.agendaIndex);
    if (patch.pausedVideo !== undefined) fields.pausedVideo = patch.pausedVideo ? '1' : '0';
    if (patch.pausedAudio !== undefined) fields.pausedAudio = patch.pausedAudio ? '1' : '0';
    if (patch.slidesOn !== undefined) fields.slidesOn = patch.slidesOn ? '1' : '0';
    if (patch.recording !== undefined) fields.recording = patch.recording ? '1' : '0';
    if (patch.hall !== undefined) fields.hall = patch.hall;
    if (patch.floorMutedByDesk !== undefined) fields.floorMutedByDesk = patch.floorMutedByDesk ? '1' : '0';
    if (Object.keys(fields).length === 0) return;
    await this.redis
      .multi()
      .hset(LIVE_KEYS.live(sessionId), fields)
      .expire(LIVE_KEYS.live(sessionId), KEEP_SECONDS)
      .exec();
  }

  async savePreflight(sessionId: string, pointId: string, report: PreflightReport): Promise<void> {
    const key = LIVE_KEYS.preflight(sessionId);
    await this.redis
      .multi()
      .hset(key, pointId, JSON.stringify({ ...report, at: new Date().toISOString() }))
      .expire(key, KEEP_SECONDS)
      .exec();
  }

  async getPreflight(sessionId: string, pointId: string): Promise<(PreflightReport & { at: string }) | undefined> {
    const raw = await this.redis.hget(LIVE_KEYS.preflight(sessionId), pointId);
    return raw ? (JSON.parse(raw) as PreflightReport & { at: string }) : undefined;
  }
}
