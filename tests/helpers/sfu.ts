// Helpers for the sfu/ integration tests: a real worker pool, hand-made RTP parameters
// shaped like mediasoup-client's, and waiting for typed events.
import pino from 'pino';
import type { types as ms } from 'mediasoup';
import { WorkerPool } from '../../sfu/worker-pool';
import { BroadcastRoom } from '../../sfu/broadcast-room';
import { SfuError } from '../../sfu/errors';
import type { BroadcastRoomEvents } from '../../sfu/types';

export const silent = pino({ level: 'silent' });

export function createPool(numWorkers: number, respawnDelayMs = 100): Promise<WorkerPool> {
  return WorkerPool.create({
    numWorkers,
    listenIp: '127.0.0.1',
    announcedIp: undefined,
    basePort: 0,
    logLevel: 'warn',
    logger: silent,
    respawnDelayMs,
  });
}

const VIDEO_FEEDBACK: ms.RtcpFeedback[] = [
  { type: 'nack' },
  { type: 'nack', parameter: 'pli' },
  { type: 'ccm', parameter: 'fir' },
  { type: 'goog-remb' },
  { type: 'transport-cc' },
];

let nextSsrc = 10_000;

/** What mediasoup-client sends for VP8 with 3 simulcast layers (180p, 360p, 720p). */
export function simulcastVp8(mid = '0'): ms.RtpParameters {
  const base = (nextSsrc += 10);
  return {
    mid,
    codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: VIDEO_FEEDBACK }],
    headerExtensions: [
      { uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 },
      { uri: 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time', id: 2 },
      { uri: 'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01', id: 3 },
    ],
    encodings: [
      { ssrc: base + 1, maxBitrate: 150_000, scaleResolutionDownBy: 4 },
      { ssrc: base + 2, maxBitrate: 500_000, scaleResolutionDownBy: 2 },
      { ssrc: base + 3, maxBitrate: 1_500_000 },
    ],
    rtcp: { cname: `host-${base}` },
  };
}

export function singleVp8(mid = '0'): ms.RtpParameters {
  const ssrc = (nextSsrc += 10);
  return {
    mid,
    codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: VIDEO_FEEDBACK }],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }],
    encodings: [{ ssrc }],
    rtcp: { cname: `cam-${ssrc}` },
  };
}

export function opus(mid = '1'): ms.RtpParameters {
  const ssrc = (nextSsrc += 10);
  return {
    mid,
    codecs: [
      { mimeType: 'audio/opus', payloadType: 111, clockRate: 48000, channels: 2, parameters: { useinbandfec: 1 } },
    ],
    headerExtensions: [{ uri: 'urn:ietf:params:rtp-hdrext:sdes:mid', id: 1 }],
    encodings: [{ ssrc }],
    rtcp: { cname: `mic-${ssrc}` },
  };
}

/** Resolves with the first payload of `event` that matches, or rejects after `ms`. */
export function nextEvent<K extends keyof BroadcastRoomEvents>(
  room: BroadcastRoom,
  event: K,
  match: (...args: BroadcastRoomEvents[K]) => boolean = () => true,
  timeoutMs = 10_000,
): Promise<BroadcastRoomEvents[K]> {
  const p = new Promise<BroadcastRoomEvents[K]>((resolve, reject) => {
    const listener = (...args: BroadcastRoomEvents[K]) => {
      if (!match(...args)) return;
      clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      room.off(event, listener as any);
      resolve(args);
    };
    const timer = setTimeout(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      room.off(event, listener as any);
      reject(new Error(`timed out waiting for ${String(event)}`));
    }, timeoutMs);
    timer.unref();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    room.on(event, listener as any);
  });
  // A test that fails before awaiting it must not crash the run with an unhandled rejection.
  p.catch(() => undefined);
  return p;
}

/** Collects every payload of `event` from now on. */
export function record<K extends keyof BroadcastRoomEvents>(
  room: BroadcastRoom,
  event: K,
): BroadcastRoomEvents[K][0][] {
  const out: BroadcastRoomEvents[K][0][] = [];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  room.on(event, ((payload: BroadcastRoomEvents[K][0]) => out.push(payload)) as any);
  return out;
}

/** A viewer joins `room` and opens its receive transport. */
export async function joinViewer(room: BroadcastRoom, peerId: string) {
  room.addViewer(peerId);
  return room.createWebRtcTransport(peerId, 'recv');
}

/** Expects `p` to fail with an SfuError of `code`. */
export async function expectSfuError(p: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  let err: unknown;
  try {
    await (typeof p === 'function' ? p() : p);
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(SfuError);
  expect((err as SfuError).code).toBe(code);
}

/**
 * A pool of two workers for the file and a fresh room `r1` for each test, closed after it;
 * `use` is given both before each test.
 */
export function roomPerTest(use: (s: { pool: WorkerPool; room: BroadcastRoom }) => void): void {
  let pool: WorkerPool | undefined;
  let room: BroadcastRoom | undefined;
  beforeAll(async () => {
    pool = await createPool(2);
  });
  afterAll(() => pool?.close());
  beforeEach(async () => {
    room = await BroadcastRoom.create({ pool: pool!, roomId: 'r1', logger: silent, layerPolicyIntervalMs: 0 });
    use({ pool: pool!, room });
  });
  afterEach(() => room?.close());
}
