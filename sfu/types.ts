// The public shapes of the media engine: what its methods return and its events carry.
import type { types as ms } from 'mediasoup';
import type { ViewerMode } from './layer-policy';

export type { ViewerMode };

/** Where a producer's media comes from; the signalling layer shows it to the clients. */
export type MediaSource = 'host-camera' | 'host-mic' | 'host-screen' | 'floor-camera' | 'floor-mic';
export type PeerRole = 'host' | 'viewer';
export type TransportDirection = 'send' | 'recv';
export type MediaKind = 'audio' | 'video';

/** What a client needs to build its side of a WebRTC transport (mediasoup-client `createSendTransport`). */
export interface TransportParams {
  id: string;
  iceParameters: ms.IceParameters;
  iceCandidates: ms.IceCandidate[];
  dtlsParameters: ms.DtlsParameters;
  /** Always undefined: no data channels. */
  sctpParameters: undefined;
}

export interface ProducerInfo {
  producerId: string;
  kind: MediaKind;
  source: MediaSource;
  /** The peer that produces it; for a plain (ffmpeg) ingest, its ingest id. */
  peerId: string;
  paused: boolean;
}

/** What a client needs for mediasoup-client `transport.consume()`. */
export interface ConsumerParams {
  id: string;
  producerId: string;
  kind: MediaKind;
  rtpParameters: ms.RtpParameters;
  type: ms.ConsumerType;
  source: MediaSource;
  producerPaused: boolean;
}

export interface ConsumerLayersInfo {
  spatialLayer: number;
  temporalLayer?: number;
}

export interface PlainIngestStreamOptions {
  ssrc: number;
  payloadType: number;
}

export interface PlainIngestOptions {
  /** VP8 unless `mimeType` says H264. */
  video?: PlainIngestStreamOptions & {
    mimeType?: 'video/VP8' | 'video/H264';
    /** Simulcast (VP8): the higher layers' SSRCs, lowest first; `ssrc` is the lowest layer's. */
    simulcastSsrcs?: number[];
    /**
     * What each layer carries at most (bps), one per SSRC, lowest first. The layer policy
     * judges the points' links against these, and mediasoup probes each link up to the top
     * one; without them the console's usual bitrates are assumed.
     */
    layerBitratesBps?: number[];
  };
  /** Opus, 48 kHz stereo. */
  audio?: PlainIngestStreamOptions;
  /** Where the PlainTransports listen. Default: the pool's listen IP, loopback for a wildcard. */
  listenIp?: string;
  /** RTCP on its own port (ffmpeg's rtp muxer default: port + 1). Default false = separate port. */
  rtcpMux?: boolean;
  /**
   * The connection point holding the floor whose camera and microphone this is (a room
   * system over SIP, transcoded): the producers are its `floor-camera` and `floor-mic`,
   * and taking the floor back closes them. Default: the hall's `host-camera`, `host-mic`.
   */
  floorOf?: string;
}

export interface PlainIngestEndpoint {
  producerId: string;
  ip: string;
  port: number;
  /** Where RTCP goes when rtcpMux is off. */
  rtcpPort: number | undefined;
}

export interface PlainIngestInfo {
  ingestId: string;
  video?: PlainIngestEndpoint;
  audio?: PlainIngestEndpoint;
}

export type ProducerCloseReason = 'closed' | 'floor-revoked' | 'peer-left' | 'worker-died' | 'room-closed';

export interface BroadcastRoomEvents {
  /** A producer is ready to consume on every live fan-out router. */
  newProducer: [ProducerInfo];
  producerClosed: [
    { producerId: string; kind: MediaKind; source: MediaSource; peerId: string; reason: ProducerCloseReason },
  ];
  producerPaused: [ProducerInfo];
  producerResumed: [ProducerInfo];
  /** A consumer closed because its producer did (not when the peer's own transport closed). */
  consumerClosed: [{ peerId: string; consumerId: string; producerId: string }];
  /** The layers mediasoup actually sends changed (null: none, e.g. paused or no bandwidth). */
  consumerLayersChanged: [{ peerId: string; consumerId: string; layers: ConsumerLayersInfo | null }];
  /** The layer ceiling this room sets changed (mode or link quality). */
  consumerPreferredLayersChanged: [{ peerId: string; consumerId: string; spatialLayer: number }];
  consumerScore: [{ peerId: string; consumerId: string; score: number; producerScore: number }];
  viewerModeChanged: [{ peerId: string; mode: ViewerMode }];
  floorGranted: [{ peerId: string }];
  floorRevoked: [{ peerId: string; reason: 'revoked' | 'peer-left' | 'room-closed' }];
  /**
   * The worker under some of this viewer's transports died: those transports, and their
   * consumers, are gone (no consumerClosed is sent for them). The client creates a new
   * receive transport (placed on a live worker) and consumes again.
   */
  viewerNeedsReconnect: [{ peerId: string; transportIds: string[]; reason: 'worker-died' }];
  /**
   * The origin router's worker died and the origin was rebuilt on a live worker: this
   * publisher (the host, or the point holding the floor) must create new transports and
   * produce again. Emitted once the new origin accepts transports.
   */
  publisherNeedsReconnect: [{ peerId: string; role: 'host' | 'floor'; transportIds: string[]; reason: 'worker-died' }];
  /** A viewer's new receive transport went to another worker than its previous one. */
  peerMoved: [{ peerId: string; fromSlot: number; toSlot: number }];
  originRebuilt: [{ slot: number; routerId: string }];
  fanoutAdded: [{ slot: number; routerId: string }];
  fanoutLost: [{ slot: number }];
  /** A plain (ffmpeg) ingest lost its transports (worker death or close); its sender must be restarted. */
  ingestClosed: [{ ingestId: string; reason: 'closed' | 'worker-died' | 'room-closed' }];
  /** A recording tap stopped (its producer or transport closed, or it was closed). */
  recordingTapClosed: [{ tapId: string; producerId: string }];
  /** A stream to a room system stopped (its feed or the hall's producer closed, a worker died). */
  sipLegClosed: [{ legId: string }];
  peerClosed: [{ peerId: string }];
  closed: [];
}

export interface TransportStatsInfo {
  transportId: string;
  direction: TransportDirection;
  slot: number;
  iceState: ms.IceState;
  dtlsState: ms.DtlsState;
  bytesSent: number;
  bytesReceived: number;
  sendBitrate: number;
  recvBitrate: number;
  availableOutgoingBitrate: number | undefined;
}

export interface ConsumerStatsInfo {
  consumerId: string;
  producerId: string;
  source: MediaSource;
  kind: MediaKind;
  paused: boolean;
  producerPaused: boolean;
  score: number;
  producerScore: number;
  currentLayers: ConsumerLayersInfo | null;
  preferredLayers: ConsumerLayersInfo | null;
}

export interface ProducerStats extends ProducerInfo {
  /** One entry per RTP stream the origin receives (three for simulcast). */
  streams: {
    ssrc: number;
    rid: string | undefined;
    score: number;
    packetCount: number;
    byteCount: number;
    bitrate: number;
  }[];
}

export interface ViewerStats {
  peerId: string;
  mode: ViewerMode;
  /** The pool slot its receive transport is on, if any. */
  slot: number | undefined;
  transports: TransportStatsInfo[];
  consumers: ConsumerStatsInfo[];
}

export interface RouterStats {
  slot: number;
  routerId: string;
  /** The origin router, which also serves the viewers placed on its worker. */
  origin: boolean;
  /** Origin producers consumable here (piped in, or local on the origin). */
  producers: number;
  /** Viewer receive transports on this router. */
  transports: number;
  consumers: number;
}

export interface RoomStats {
  roomId: string;
  originSlot: number | undefined;
  floorPeerId: string | undefined;
  peers: number;
  viewers: number;
  producers: ProducerInfo[];
  routers: RouterStats[];
}

/** What room systems receive (sip-media.ts): H.264, G.711, G.722, and the hall's own Opus. */
export type SipMediaCodec = 'H264' | 'PCMU' | 'PCMA' | 'G722' | 'opus';

export interface SipFeedOptions {
  /** One stream per codec the transcoder sends, each with its SSRC and payload type. */
  streams: { codec: SipMediaCodec; ssrc: number; payloadType: number }[];
}

export interface SipFeedInfo {
  feedId: string;
  /** Where the transcoder sends each stream (RTP to port, RTCP to rtcpPort), and its producer. */
  streams: { codec: SipMediaCodec; producerId: string; ip: string; port: number; rtcpPort: number }[];
}

export interface SipLegOptions {
  /** A feed's producer, or one of the room's (the hall's Opus). */
  producerId: string;
  codec: SipMediaCodec;
  /**
   * The payload type to send with: the one the room system offered (RFC 3264 5.1: what it
   * expects to receive); for a `reserved` leg, the gateway's offer's (the origin router's).
   */
  payloadType: number;
  /** Where our side listens: an address room systems reach (or announced as one). */
  listen: { ip: string; announcedIp?: string };
  /** Where the room system receives. */
  ip: string;
  port: number;
  rtcpPort: number;
  rtcpMux: boolean;
  /** SDES: the suite and the room system's own key (what it encrypts with). */
  srtp?: { suite: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32'; keyBase64: string };
  /** A reserved leg (reserveLeg) to complete: its transport is used, with our key; `listen` is ignored. */
  reserved?: string;
}

export interface SipLegReservationOptions {
  listen: { ip: string; announcedIp?: string };
  /** SDES with this suite (our key is made here); absent: plain RTP. */
  srtpSuite?: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32';
}

export interface SipLegReservation {
  /** Becomes the leg's id once opened (openLeg with `reserved`). */
  reservedId: string;
  ip: string;
  port: number;
  rtcpPort: number;
  /** Our key, for the offer's a=crypto. */
  srtp?: { suite: 'AES_CM_128_HMAC_SHA1_80' | 'AES_CM_128_HMAC_SHA1_32'; keyBase64: string };
  /** The payload type legs send each codec with (the router's). */
  payloadTypes: Partial<Record<SipMediaCodec, number>>;
}

export interface SipLegInfo {
  legId: string;
  /** The payload type it sends with: the one offered (a payload router's when the origin router's differs). */
  payloadType: number;
  ip: string;
  port: number;
  rtcpPort: number;
  /** Our key, for the answer's a=crypto. */
  srtp?: { suite: string; keyBase64: string };
}

export interface SipLegStats {
  packetsSent: number;
  bytesSent: number;
  /** From the room system's last receiver report. */
  lossPercent: number;
  packetsLost: number;
  jitter: number | null;
  roundTripTimeMs: number | null;
  /** mediasoup's 0-10 score of the stream, from the receiver reports. */
  score: number | null;
  rtcpReceived: boolean;
  bytesReceived: number;
}
