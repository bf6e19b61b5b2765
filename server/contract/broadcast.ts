// The live broadcast's Socket.IO contract: namespace `/point` (a connection point's page,
// authenticated by its join token) and namespace `/host` (the host console, by login
// cookie). mediasoup's RTP and DTLS parameter objects are checked here for shape and
// size only; mediasoup validates their content and its errors come back as bad_request.
import { z } from 'zod';
import { HallSourceSchema, MediaSourceSchema } from './media-sources';
import { SessionStateSchema } from './session-state';
import { defineRequests } from './socket';
import { RecordingStatusSchema } from './recording';

const Id = z.string().min(1).max(128);
/** An opaque mediasoup parameter object (RTP capabilities, DTLS parameters…). */
const MediasoupObject = z.looseObject({});

export { FloorSourceSchema, MEDIA_SOURCES, MediaSourceSchema, type MediaSource } from './media-sources';

export const ViewerModeSchema = z.enum(['full', 'low', 'audio-only']);
export type ViewerMode = z.infer<typeof ViewerModeSchema>;

/** A point's mode, who chose it (its page or the desk on the monitor) and when. */
export const PointModeSchema = z.object({
  mode: ViewerModeSchema,
  by: z.enum(['point', 'desk']),
  at: z.string().nullable(),
});
export type PointMode = z.infer<typeof PointModeSchema>;

/** A TURN relay with its short-lived credentials (RTCIceServer). */
export const IceServerSchema = z.object({
  urls: z.array(z.string().max(300)).max(10),
  username: z.string().max(200),
  credential: z.string().max(200),
});
export type IceServer = z.infer<typeof IceServerSchema>;

export const TransportParamsSchema = z.object({
  id: Id,
  iceParameters: MediasoupObject,
  iceCandidates: z.array(MediasoupObject),
  dtlsParameters: MediasoupObject,
  /** Relays the page may use besides the SFU's own candidates (none when TURN is off). */
  iceServers: z.array(IceServerSchema).optional(),
});
export type TransportParams = z.infer<typeof TransportParamsSchema>;

export const ConsumerParamsSchema = z.object({
  id: Id,
  producerId: Id,
  kind: z.enum(['audio', 'video']),
  rtpParameters: MediasoupObject,
  source: MediaSourceSchema,
});

export const ProducerInfoSchema = z.object({
  producerId: Id,
  kind: z.enum(['audio', 'video']),
  source: MediaSourceSchema,
});
export type ProducerInfo = z.infer<typeof ProducerInfoSchema>;

export const AgendaCaptionSchema = z.object({
  index: z.number().int().min(0),
  total: z.number().int().min(0),
  title: z.string(),
  speaker: z.string(),
  role: z.string(),
});
export type AgendaCaption = z.infer<typeof AgendaCaptionSchema>;

/** What a point's page needs to show, pushed on connect and on every change. */
export { HallSourceSchema, type HallSource } from './media-sources';
/** The host's choice; `auto` prefers an encoder (WHIP, then an ingest) over the console. */
export const HallChoiceSchema = z.enum(['auto', 'console', 'whip', 'ingest']);
export type HallChoice = z.infer<typeof HallChoiceSchema>;
export const HallViewSchema = z.object({
  choice: HallChoiceSchema,
  /** The source points receive now (null: none publishes). */
  live: HallSourceSchema.nullable(),
  /** The sources publishing now. */
  present: z.array(HallSourceSchema),
});
export type HallView = z.infer<typeof HallViewSchema>;

export const BroadcastViewSchema = z.object({
  sessionId: Id,
  title: z.string(),
  state: SessionStateSchema,
  scheduledStart: z.string(),
  lobbyOpensAt: z.string(),
  plannedEnd: z.string(),
  caption: AgendaCaptionSchema.nullable(),
  /** The host has paused the camera / microphone (the page says so instead of freezing). */
  paused: z.object({ video: z.boolean(), audio: z.boolean() }),
  slidesOn: z.boolean(),
  /** The point holding the floor; `muted`: the desk paused its microphone at the SFU. */
  floor: z.object({ pointId: Id, name: z.string(), muted: z.boolean() }).nullable(),
  /** What the points may consume: the hall's camera and microphone of its live source only. */
  producers: z.array(ProducerInfoSchema),
  hall: HallViewSchema,
  /** Recording wanted (before going live: will record) and since when it records. */
  recording: RecordingStatusSchema,
});
export type BroadcastView = z.infer<typeof BroadcastViewSchema>;

const Empty = z.object({}).strict().optional();

/** Requests both the host console and a point page make to send and receive media. */
export const rtcRequests = defineRequests({
  'rtc:capabilities': { input: Empty, output: z.object({ routerRtpCapabilities: MediasoupObject }) },
  'rtc:createTransport': {
    input: z.object({ direction: z.enum(['send', 'recv']), rtpCapabilities: MediasoupObject }).strict(),
    output: TransportParamsSchema,
  },
  'rtc:connectTransport': {
    input: z.object({ transportId: Id, dtlsParameters: MediasoupObject }).strict(),
    output: z.object({}),
  },
  'rtc:restartIce': {
    input: z.object({ transportId: Id }).strict(),
    output: z.object({ iceParameters: MediasoupObject }),
  },
  'rtc:consume': {
    input: z.object({ transportId: Id, producerId: Id }).strict(),
    output: ConsumerParamsSchema,
  },
  'rtc:resumeConsumer': { input: z.object({ consumerId: Id }).strict(), output: z.object({}) },
  'rtc:produce': {
    input: z
      .object({
        transportId: Id,
        kind: z.enum(['audio', 'video']),
        rtpParameters: MediasoupObject,
        source: MediaSourceSchema,
      })
      .strict(),
    output: z.object({ id: Id }),
  },
  'rtc:closeProducer': { input: z.object({ producerId: Id }).strict(), output: z.object({}) },
});
export type RtcRequests = typeof rtcRequests;
/** What a page asks to receive (client/src/rtc/receiver.ts). */
export type RtcReceiveRequests = Omit<RtcRequests, 'rtc:produce' | 'rtc:closeProducer'>;
/** What a page asks to publish (client/src/rtc/sender.ts). */
export type RtcSendRequests = Omit<RtcRequests, 'rtc:capabilities' | 'rtc:consume' | 'rtc:resumeConsumer'>;

/** The technician's answer to "did you hear the tone?" of the speaker check. */
export const ToneAnswerSchema = z.enum(['heard', 'not-heard', 'unanswered']);
export type ToneAnswer = z.infer<typeof ToneAnswerSchema>;

export const PreflightReportSchema = z
  .object({
    result: z.enum(['pass', 'warn', 'fail']),
    transport: z.enum(['udp', 'tcp', 'relay', 'unknown', 'none']),
    rttMs: z.number().min(0).max(60_000).nullable(),
    downlinkKbps: z.number().min(0).max(1_000_000).nullable(),
    camera: z.enum(['ok', 'missing', 'denied', 'skipped']),
    microphone: z.enum(['ok', 'missing', 'denied', 'skipped']),
    speaker: z.enum(['ok', 'skipped']),
    /** Asked once the tone played; absent when the speaker part did not run (or from older pages). */
    tone: ToneAnswerSchema.optional(),
    reasons: z.array(z.string().max(300)).max(20),
  })
  .strict();
export type PreflightReport = z.infer<typeof PreflightReportSchema>;

export const pointRequests = defineRequests({
  ...rtcRequests,
  'view:get': { input: Empty, output: BroadcastViewSchema },
  'mode:set': { input: z.object({ mode: ViewerModeSchema }).strict(), output: z.object({ mode: ViewerModeSchema }) },
  'hand:raise': { input: Empty, output: z.object({ position: z.number().int().min(1) }) },
  'hand:lower': { input: Empty, output: z.object({}) },
  'preflight:report': { input: PreflightReportSchema, output: z.object({}) },
});
export type PointRequests = typeof pointRequests;

export const HandSchema = z.object({ pointId: Id, name: z.string(), district: z.string(), raisedAt: z.string() });
export type Hand = z.infer<typeof HandSchema>;

export const LiveNumbersSchema = z.object({
  invited: z.number().int(),
  connected: z.number().int(),
  receivingVideo: z.number().int(),
  delegatesReported: z.number().int(),
});
export type LiveNumbers = z.infer<typeof LiveNumbersSchema>;

/** One RTP stream a hardware encoder (or ffmpeg) sends into a plain ingest. */
const PlainIngestStreamSchema = z
  .object({
    ssrc: z.number().int().min(1).max(0xffffffff),
    /** Dynamic payload types only. */
    payloadType: z.number().int().min(96).max(127),
  })
  .strict();

const PlainIngestEndpointSchema = z.object({
  producerId: Id,
  ip: z.string(),
  port: z.number().int(),
  /** Where RTCP goes when rtcpMux is off. */
  rtcpPort: z.number().int().optional(),
});

export const PlainIngestRequestSchema = z
  .object({
    video: PlainIngestStreamSchema.extend({
      mimeType: z.enum(['video/VP8', 'video/H264']).optional(),
      /**
       * Simulcast: the SSRCs of the higher layers (one or two), lowest first; `ssrc` is the
       * lowest layer's. VP8 only.
       */
      simulcastSsrcs: z.array(z.number().int().min(1).max(0xffffffff)).min(1).max(2).optional(),
      /**
       * What each layer carries at most (bps), one per SSRC, lowest first: the points climb
       * to a layer once their link carries it. Without them the console's bitrates
       * (150k / 500k / 1.5M) are assumed, and an encoder whose top layer sends less keeps
       * the points below it.
       */
      layerBitratesBps: z.array(z.number().int().min(10_000).max(50_000_000)).min(1).max(3).optional(),
    })
      .strict()
      .refine((v) => !v.simulcastSsrcs || (v.mimeType ?? 'video/VP8') === 'video/VP8', {
        message: 'simulcast is VP8 only',
      })
      .refine((v) => !v.simulcastSsrcs || new Set([v.ssrc, ...v.simulcastSsrcs]).size === v.simulcastSsrcs.length + 1, {
        message: 'each simulcast layer needs its own ssrc',
      })
      .refine((v) => !v.layerBitratesBps || v.layerBitratesBps.length === 1 + (v.simulcastSsrcs?.length ?? 0), {
        message: 'one bitrate per layer (layerBitratesBps), lowest first',
      })
      .refine((v) => !v.layerBitratesBps || v.layerBitratesBps.every((b, i, all) => i === 0 || b > all[i - 1]!), {
        message: 'layer bitrates rise from the lowest layer to the highest',
      })
      .optional(),
    audio: PlainIngestStreamSchema.optional(),
    rtcpMux: z.boolean().optional(),
  })
  .strict()
  .refine((v) => v.video !== undefined || v.audio !== undefined, { message: 'give video, audio or both' })
  .refine((v) => !v.video || !v.audio || ![v.video.ssrc, ...(v.video.simulcastSsrcs ?? [])].includes(v.audio.ssrc), {
    message: 'video and audio need different ssrcs',
  });
export type PlainIngestRequest = z.input<typeof PlainIngestRequestSchema>;

export const PlainIngestResultSchema = z.object({
  ingestId: Id,
  video: PlainIngestEndpointSchema.optional(),
  audio: PlainIngestEndpointSchema.optional(),
});
export type PlainIngestResult = z.infer<typeof PlainIngestResultSchema>;

/** An encoder publishing the hall over WHIP (its audio and video replace the console's). */
export const WhipPublisherSchema = z.object({
  resourceId: Id,
  kinds: z.array(z.enum(['audio', 'video'])),
  /** Simulcast layers of its video: 1 without simulcast, 0 without video. */
  videoLayers: z.number().int().min(0).max(3),
  since: z.string(),
});
export type WhipPublisher = z.infer<typeof WhipPublisherSchema>;

/** Where an encoder publishes the attached session over WHIP, and who does now. */
export const WhipStatusSchema = z.object({ url: z.string(), publisher: WhipPublisherSchema.nullable() });
export type WhipStatus = z.infer<typeof WhipStatusSchema>;

/**
 * The session's SRT or RTMP listener for an encoder: its URL (SRT: with the passphrase;
 * RTMP: with the key as application, `hall` the stream), and whether an encoder sends.
 */
export const SrtStatusSchema = z.object({
  url: z.string().nullable(),
  port: z.number().int().nullable(),
  passphrase: z.string().nullable(),
  state: z.enum(['off', 'listening', 'receiving']),
});
export type SrtStatus = z.infer<typeof SrtStatusSchema>;

export const hostRequests = defineRequests({
  ...rtcRequests,
  'host:attach': {
    input: z.object({ sessionId: Id }).strict(),
    output: z.object({ view: BroadcastViewSchema, hands: z.array(HandSchema), numbers: LiveNumbersSchema }),
  },
  'session:goLive': { input: Empty, output: BroadcastViewSchema },
  'session:end': { input: Empty, output: BroadcastViewSchema },
  'agenda:go': { input: z.object({ index: z.number().int().min(0).max(500) }).strict(), output: BroadcastViewSchema },
  'media:pause': {
    input: z.object({ kind: z.enum(['audio', 'video']), paused: z.boolean() }).strict(),
    output: BroadcastViewSchema,
  },
  'slides:set': { input: z.object({ on: z.boolean() }).strict(), output: BroadcastViewSchema },
  /** Only before going live: recording is on by default. */
  'recording:set': { input: z.object({ on: z.boolean() }).strict(), output: BroadcastViewSchema },
  'floor:grant': { input: z.object({ pointId: Id }).strict(), output: BroadcastViewSchema },
  'floor:revoke': { input: Empty, output: BroadcastViewSchema },
  /** Pauses (or resumes) the floor's microphone at the SFU: the points stop hearing it. */
  'floor:mute': { input: z.object({ muted: z.boolean() }).strict(), output: BroadcastViewSchema },
  /**
   * Publish the hall from plain RTP (a hardware encoder, ffmpeg) instead of a browser:
   * comedia PlainTransports on the origin, without SRTP, so they listen on the SFU's own
   * listen address only (loopback when that is a wildcard). Closed with `ingest:close`
   * or when this console's socket goes.
   */
  'ingest:plain': { input: PlainIngestRequestSchema, output: PlainIngestResultSchema },
  'ingest:close': { input: z.object({ ingestId: Id }).strict(), output: z.object({}) },
  /** Which source the points receive the hall from; switched on the points' same transports. */
  'hall:source': { input: z.object({ source: HallChoiceSchema }).strict(), output: BroadcastViewSchema },
  /** Opens (a port and a new passphrase) or closes the session's SRT listener; `{}` only reads it. */
  'ingest:srt': { input: z.object({ open: z.boolean().optional() }).strict(), output: SrtStatusSchema },
  /** The same for RTMP (the key is the URL's application; a wrong one is dropped). */
  'ingest:rtmp': { input: z.object({ open: z.boolean().optional() }).strict(), output: SrtStatusSchema },
  'whip:status': { input: Empty, output: WhipStatusSchema },
  /** A new bearer token for the session's WHIP URL, shown once; the previous one stops working. */
  'whip:issue': { input: Empty, output: WhipStatusSchema.extend({ token: z.string() }) },
  /** Stops the encoder publishing over WHIP, if any. */
  'whip:stop': { input: Empty, output: z.object({ stopped: z.boolean() }) },
});
export type HostRequests = typeof hostRequests;

/** What the room tells every page that receives from it. */
const rtcPushes = {
  'rtc:newProducer': ProducerInfoSchema,
  'rtc:producerClosed': z.object({ producerId: Id }),
  'rtc:consumerClosed': z.object({ consumerId: Id }),
  /** The transport is gone (its worker died): create a new one and consume again. */
  'rtc:reconnect': z.object({ reason: z.string() }),
};

/** Pushes to a point's page (`/point`); the namespace's event maps are in namespaces.ts. */
export const pointPushes = {
  ...rtcPushes,
  view: BroadcastViewSchema,
  'floor:you': z.object({ granted: z.boolean() }),
  /** The desk asks the page to run its pre-flight check again. */
  'preflight:run': z.object({}),
  /** The point's kept mode: sent on connect, and when the desk sets it (the page applies it). */
  mode: PointModeSchema,
  kicked: z.object({ reason: z.string() }),
};
export type PointPushes = typeof pointPushes;

/** Pushes to the host console (`/host`). */
export const hostPushes = {
  ...rtcPushes,
  view: BroadcastViewSchema,
  hands: z.array(HandSchema),
  numbers: LiveNumbersSchema,
  /** The origin was rebuilt (its worker died): produce again on a new transport. */
  'rtc:republish': z.object({ reason: z.string() }),
  /** A WHIP encoder started or stopped publishing the hall. */
  whip: WhipStatusSchema,
  /** The SRT listener opened, closed, or its encoder started or stopped sending. */
  srt: SrtStatusSchema,
  rtmp: SrtStatusSchema,
};
export type HostPushes = typeof hostPushes;
