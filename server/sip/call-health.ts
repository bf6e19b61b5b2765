// A room system's call as the monitor and attendance see any point: connected when the
// call is set up, disconnected when it ends, and a health report every 2 s made from the
// RTCP receiver reports the room system sends about each stream (loss, jitter, round
// trip), graded with the same thresholds and hysteresis as a browser's getStats report.
// The call's "socket id" is `sip:<Call-ID>`, so a room system and a browser of the same
// point are two connections of that point, as two browser tabs would be.
import type { Logger } from 'pino';
import type { SipLegStats } from '../../sfu';
import type { HealthReport } from '../contract/attendance';
import type { PointAttendance } from '../realtime/point-attendance';
import type { SipCallMedia, SipCallRequest } from './gateway';
import type { SipCallMediaStats } from './media-bridge';

const EVERY_MS = 2000;

interface Watched {
  readonly id: { sessionId: string; pointId: string };
  readonly socketId: string;
  readonly media: SipCallMedia & { stats?: () => Promise<SipCallMediaStats> };
  bytesSent: number;
  at: number;
}

export class SipCallHealth {
  readonly #attendance: Pick<PointAttendance, 'pointConnected' | 'pointDisconnected' | 'healthReport'>;
  readonly #log: Logger;
  readonly #calls = new Map<string, Watched>();
  #timer: NodeJS.Timeout | undefined;
  /** A report round is running: the next tick skips rather than overlap it. */
  #busy = false;

  constructor(deps: {
    attendance: Pick<PointAttendance, 'pointConnected' | 'pointDisconnected' | 'healthReport'>;
    logger: Logger;
  }) {
    this.#attendance = deps.attendance;
    this.#log = deps.logger.child({ component: 'sip-health' });
  }

  started(call: SipCallRequest, media: Watched['media']): void {
    const w: Watched = {
      id: { sessionId: call.sessionId, pointId: call.pointId },
      socketId: `sip:${call.callId}`,
      media,
      bytesSent: 0,
      at: Date.now(),
    };
    this.#calls.set(call.callId, w);
    this.#attendance.pointConnected(w.id, w.socketId);
    if (!this.#timer) {
      this.#timer = setInterval(() => void this.#report(), EVERY_MS);
      this.#timer.unref();
    }
  }

  ended(call: SipCallRequest, reason: string): void {
    const w = this.#calls.get(call.callId);
    if (!w) return;
    this.#calls.delete(call.callId);
    this.#attendance.pointDisconnected(w.id, w.socketId, `sip: ${reason}`);
    if (this.#calls.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #report(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      for (const [callId, w] of [...this.#calls]) {
        try {
          const stats = (await w.media.stats?.()) ?? { audioClockRate: 8000 };
          // A call that ended meanwhile is reported no more: that would show it connected again.
          if (this.#calls.get(callId) !== w) continue;
          await this.#attendance.healthReport(w.id, w.socketId, this.#toReport(w, stats));
        } catch (err) {
          this.#log.warn({ err, ...w.id }, 'could not report a room system’s health');
        }
      }
    } finally {
      this.#busy = false;
    }
  }

  #toReport(w: Watched, s: SipCallMediaStats): HealthReport {
    const legs = [s.audio, s.video].filter((x): x is SipLegStats => x !== undefined);
    const now = Date.now();
    const bytes = legs.reduce((n, l) => n + l.bytesSent, 0);
    const kbps = now > w.at ? Math.max(0, ((bytes - w.bytesSent) * 8) / (now - w.at)) : null;
    w.bytesSent = bytes;
    w.at = now;
    const rtts = legs.map((l) => l.roundTripTimeMs).filter((x): x is number => x !== null && x > 0);
    // RTCP jitter is in RTP timestamp units: 8000 per second for G.711 and G.722, 48000 for Opus.
    const audioJitterMs = s.audio?.jitter != null ? (s.audio.jitter * 1000) / s.audioClockRate : null;
    const heard = legs.some((l) => l.rtcpReceived);
    return {
      transportState: legs.length === 0 ? 'closed' : heard ? 'connected' : 'connecting',
      protocol: 'udp',
      rttMs: rtts.length ? Math.min(60_000, Math.max(...rtts)) : null,
      signalRttMs: null,
      lossPct: legs.length ? Math.min(100, Math.max(...legs.map((l) => l.lossPercent))) : null,
      jitterMs: audioJitterMs === null ? null : Math.min(60_000, audioJitterMs),
      bitrateKbps: kbps === null ? null : Math.min(1_000_000, kbps),
      consumers: legs.length,
      framesDecoded: null,
      framesDropped: null,
      freezeCount: null,
      freezeMs: null,
      width: null,
      height: null,
      audioConcealedPct: null,
    };
  }
}
