// What a run gives each virtual point (./point.ts): where it connects, its join link, what
// it receives and how, and the run's shared parts (the DTLS gate, the ack reservoir).
import type { MediaWatchdogOptions } from '../../client/src/point/media-watchdog';
import type { Gate } from './gate';
import type { Reservoir } from './stats';
import type { WatchJudge } from './watch-judge';

export interface PointOptions {
  baseUrl: string;
  /**
   * Cluster mode: ask this control server where the point lives (GET
   * /cluster/v1/join/:token/node, as the page does) before connecting and again before
   * each reconnect; socket and media go to the node it names.
   */
  controlUrl?: string;
  pointId: string;
  token: string;
  /** Expected delegates: what the headcount reports. */
  headcount: number;
  media: boolean;
  decryptEvery: number;
  /** No RTCP back and no header extensions negotiated (the generator's first receivers). */
  silent?: boolean;
  /** Offer video/rtx as Chromium does (NACKed packets come back on an RTX stream); not when silent. */
  rtx?: boolean;
  /** ICE-TCP to the transport's TCP candidate instead of UDP (a network that blocks UDP). */
  tcp?: boolean;
  /** Called with each receive transport's local UDP port once connected (the impaired link). */
  onMediaPort?: (port: number) => void;
  /** The run's DTLS handshakes, a few at a time (shared by all points). */
  handshakes?: Gate;
  /** The run's points and loop lag, against which the media watchdog judges silence (./watch-judge.ts). */
  fleet?: WatchJudge | undefined;
  /** The media watchdog's timings; the page's (DEFAULT_WATCHDOG) unless a test gives others. */
  watchdog?: Partial<MediaWatchdogOptions>;
  /** Health reports go here (ack latency), shared by all points. */
  healthAcks: Reservoir;
  /** Called with the marker (rttMs) of each report sent, for the monitor probe. */
  onReportSent?: (pointId: string, marker: number, at: number) => void;
  log: (msg: string) => void;
}
