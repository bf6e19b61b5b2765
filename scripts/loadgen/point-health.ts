// A virtual point's health report, as the page sends it every 2 s: the transport's state,
// loss, jitter and bitrate since the last report, frames, freezes and the watchdog's
// rebuilds, with a marker in place of the RTT so that the monitor probe finds the report's
// tile. The acks' latencies go to the run's reservoir.
import type { PayloadOf } from '../../client/src/net/request';
import type { PointClientEvents } from '../../server/contract/namespaces';
import type { FeedbackCounts } from './point-feedback';
import type { Reservoir } from './stats';
import { lostOf, type StreamStats } from './stream-stats';

export type HealthReport = PayloadOf<PointClientEvents['health:report']>;

/** What a report is read from, and where it goes: the point's side. */
export interface HealthSource {
  /** Every stream the point ever received (current and replaced transports). */
  streams(): StreamStats[];
  /** The current transport's hall video, the jitter's stream. */
  currentVideo(): StreamStats | undefined;
  feedback(): FeedbackCounts | undefined;
  /** The current transport's DTLS is done. */
  mediaConnected(): boolean;
  consumers(): number;
  rebuilds(): number;
  send(report: HealthReport): Promise<unknown>;
}

export interface HealthReporterOptions {
  pointId: string;
  media: boolean;
  tcp: boolean;
  /** Health reports' ack latencies, shared by all points. */
  healthAcks: Reservoir;
  /** Called with the marker (rttMs) of each report sent, for the monitor probe. */
  onReportSent?: ((pointId: string, marker: number, at: number) => void) | undefined;
}

export class HealthReporter {
  reportsSent = 0;
  reportsFailed = 0;
  readonly #o: HealthReporterOptions;
  readonly #src: HealthSource;
  #lastAckMs: number | null = null;
  #reportSeq = 0;
  #prev = { received: 0, lost: 0, bytes: 0, frames: 0, at: 0 };

  constructor(o: HealthReporterOptions, src: HealthSource) {
    this.#o = o;
    this.#src = src;
  }

  /** Builds the report from the counters' progress since the last one, and sends it. */
  report(): void {
    const now = Date.now();
    let received = 0;
    let lost = 0;
    let bytes = 0;
    let frames = 0;
    let jitterMs: number | null = null;
    const current = this.#src.currentVideo();
    for (const s of this.#src.streams()) {
      received += s.received;
      lost += lostOf(s);
      bytes += s.bytes;
      frames += s.frames;
      if (s.kind === 'video' && s === current) jitterMs = (s.jitter / s.clockRate) * 1000;
    }
    const dt = this.#prev.at ? (now - this.#prev.at) / 1000 : 2;
    const fb = this.#src.feedback();
    const dRecv = received - this.#prev.received;
    const dLost = Math.max(0, lost - this.#prev.lost);
    const media = this.#o.media;
    const connected = media && this.#src.mediaConnected();
    // The media path's RTT is not measured here; the report carries a marker instead
    // (5-104 ms, whole so that the monitor page's rounded RTT shows it as sent; unique
    // among a point's last 100 reports) so the monitor probes can find this report's tile.
    const marker = 5 + (++this.#reportSeq % 100);
    const report: HealthReport = {
      transportState: !media ? null : connected ? 'connected' : 'connecting',
      protocol: connected ? (this.#o.tcp ? 'tcp' : 'udp') : null,
      rttMs: marker,
      signalRttMs: this.#lastAckMs,
      lossPct: dRecv + dLost > 0 ? (100 * dLost) / (dRecv + dLost) : 0,
      jitterMs: jitterMs === null ? null : Math.min(60_000, jitterMs),
      bitrateKbps: Math.min(1_000_000, ((bytes - this.#prev.bytes) * 8) / 1000 / dt),
      consumers: media ? this.#src.consumers() : 0,
      framesDecoded: Math.min(10_000, frames - this.#prev.frames),
      framesDropped: null,
      freezeCount: fb ? Math.min(1000, fb.freezes) : null,
      freezeMs: fb ? Math.min(600_000, Math.round(fb.freezeMs)) : null,
      width: null,
      height: null,
      audioConcealedPct: null,
      mediaRebuilds: Math.min(10_000, this.#src.rebuilds()),
    };
    this.#prev = { received, lost, bytes, frames, at: now };
    const sentAt = performance.now();
    this.#o.onReportSent?.(this.#o.pointId, marker, Date.now());
    this.reportsSent += 1;
    this.#src.send(report).then(
      () => {
        const ms = performance.now() - sentAt;
        this.#lastAckMs = Math.round(ms * 10) / 10;
        this.#o.healthAcks.add(ms);
      },
      () => {
        this.reportsFailed += 1;
      },
    );
  }
}
