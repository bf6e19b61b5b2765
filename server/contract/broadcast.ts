// The live broadcast's Socket.IO contract: namespace `/point` (a connection point's page,
// authenticated by its join token) and namespace `/host` (the host console, by login
// cookie). mediasoup's RTP and DTLS parameter objects are checked here for shape and
// size only; mediasoup validates their content and its errors come back as bad_request.
import { z } from 'zod';
import { defineRequests, type PushEvents, type RequestEvents } from './socket';

const Id = z.string().min(1).max(128);
/** An opaque mediasoup parameter object (RTP capabilities, DTLS parameters…). */
const MediasoupObject = z.looseObject({});

export const MediaSourceSchema = z.enum(['host-camera', 'host-mic', 'host-screen', 'floor-camera', 'floor-mic']);
export type MediaSource = z.infer<typeof MediaSourceSchema>;

export const ViewerModeSchema = z.enum(['full', 'low', 'audio-only']);
export type ViewerMode = z.infer<typeof ViewerModeSchema>;

export const TransportParamsSchema = z.object({
  id: Id,
  iceParameters: MediasoupObject,
  iceCandidates: z.array(MediasoupObject),
  dtlsParameters: MediasoupObject,
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

export const SessionStateSchema = z.enum(['draft', 'scheduled', 'lobby', 'live', 'ended', 'cancelled']);

/** What a point's page needs to show, pushed on connect and on every change. */
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
  floor: z.object({ pointId: Id, name: z.string() }).nullable(),
  producers: z.array(ProducerInfoSchema),
});
export type BroadcastView = z.infer<typeof BroadcastViewSchema>;

const Empty = z.object({}).strict().optional();

/** Requests both the host console and a point page make to receive media. */
const rtcRequests = {
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
} as const;

export const PreflightReportSchema = z
  .object({
    result: z.enum(['pass', 'warn', 'fail']),
    transport: z.enum(['udp', 'tcp', 'none']),
    rttMs: z.number().min(0).max(60_000).nullable(),
    downlinkKbps: z.number().min(0).max(1_000_000).nullable(),
    camera: z.enum(['ok', 'missing', 'denied', 'skipped']),
    microphone: z.enum(['ok', 'missing', 'denied', 'skipped']),
    speaker: z.enum(['ok', 'skipped']),
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
  'floor:grant': { input: z.object({ pointId: Id }).strict(), output: BroadcastViewSchema },
  'floor:revoke': { input: Empty, output: BroadcastViewSchema },
});
export type HostRequests = typeof hostRequests;

const pointPushes = {
  view: BroadcastViewSchema,
  'rtc:newProducer': ProducerInfoSchema,
  'rtc:producerClosed': z.object({ producerId: Id }),
  'rtc:consumerClosed': z.object({ consumerId: Id }),
  /** The transport is gone (its worker died): create a new one and consume again. */
  'rtc:reconnect': z.object({ reason: z.string() }),
  'floor:you': z.object({ granted: z.boolean() }),
  kicked: z.object({ reason: z.string() }),
};

const hostPushes = {
  view: BroadcastViewSchema,
  hands: z.array(HandSchema),
  numbers: LiveNumbersSchema,
  'rtc:newProducer': ProducerInfoSchema,
  'rtc:producerClosed': z.object({ producerId: Id }),
  'rtc:consumerClosed': z.object({ consumerId: Id }),
  'rtc:reconnect': z.object({ reason: z.string() }),
  /** The origin was rebuilt (its worker died): produce again on a new transport. */
  'rtc:republish': z.object({ reason: z.string() }),
};

export type PointClientEvents = RequestEvents<PointRequests>;
export type PointServerEvents = PushEvents<typeof pointPushes>;
export type HostClientEvents = RequestEvents<HostRequests>;
export type HostServerEvents = PushEvents<typeof hostPushes>;
export const pushSchemas = { point: pointPushes, host: hostPushes };
