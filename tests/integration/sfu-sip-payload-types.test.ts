// Room systems that offer H.264 with different dynamic payload types at once each receive
// their own number (RFC 3264 5.1), through payload routers on the origin's worker that legs
// with the same number share and that close with their last leg; a key-frame request from
// a room system still reaches the transcoder. Real mediasoup, plain UDP sockets as the
// transcoder and the room systems.
import dgram from 'node:dgram';
import type { types as ms } from 'mediasoup';
import { BroadcastRoom } from '../../sfu/broadcast-room';
import type { WorkerPool } from '../../sfu/worker-pool';
import type { SipLegInfo } from '../../sfu/types';
import { createPool, silent } from '../helpers/sfu';
import { waitFor } from '../helpers/orchestrator';

const FEED_SSRC = 0x11112222;
const FEED_PT = 96;

interface Socket {
  sock: dgram.Socket;
  port: number;
  /** Payload types of the RTP received, and RTCP payload-specific feedback (PLI) counted. */
  pts: Set<number>;
  rtp: number;
  plis: number;
  /** The SSRC the SFU sends to it with. */
  ssrc: number | undefined;
}

async function socket(): Promise<Socket> {
  const sock = dgram.createSocket('udp4');
  const s: Socket = { sock, port: 0, pts: new Set(), rtp: 0, plis: 0, ssrc: undefined };
  sock.on('message', (m) => {
    if (m.length < 12 || m[0]! >> 6 !== 2) return;
    const pt = m[1]! & 0x7f;
    // RTCP payload-specific feedback (206) with FMT 1: a picture loss indication.
    if (m[1] === 206 && (m[0]! & 0x1f) === 1) s.plis += 1;
    else if (pt < 64 || pt > 95) {
      s.pts.add(pt);
      s.rtp += 1;
      s.ssrc = m.readUInt32BE(8);
    }
  });
  await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', resolve));
  s.port = sock.address().port;
  return s;
}

/** An RTP packet carrying one H.264 NAL unit: an SPS, which mediasoup takes for a key frame. */
function h264Packet(seq: number): Buffer {
  const b = Buffer.alloc(12 + 40, 0xab);
  b[0] = 0x80;
  b[1] = 0x80 | FEED_PT; // marker
  b.writeUInt16BE(seq & 0xffff, 2);
  b.writeUInt32BE((seq * 3000) >>> 0, 4);
  b.writeUInt32BE(FEED_SSRC, 8);
  b[12] = 0x67;
  return b;
}

/** A sender report: lets the comedia feed learn where its RTCP (our key-frame requests) goes. */
function senderReport(): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(FEED_SSRC, 4);
  return b;
}

/** A picture loss indication from a room system for the stream it receives. */
function pli(mediaSsrc: number): Buffer {
  const b = Buffer.alloc(12);
  b[0] = 0x81;
  b[1] = 206;
  b.writeUInt16BE(2, 2);
  b.writeUInt32BE(0x0badcafe, 4);
  b.writeUInt32BE(mediaSsrc, 8);
  return b;
}

const routerCount = async (worker: ms.Worker) => ((await worker.dump()) as { routerIds: string[] }).routerIds.length;

describe('SIP legs send the payload type each room system offered', () => {
  let pool: WorkerPool;
  let room: BroadcastRoom;
  const sockets: Socket[] = [];
  let timer: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    pool = await createPool(1);
  });
  afterAll(() => pool.close());
  /** A room on the pool's one worker, with a SIP feed of H.264 at FEED_PT. */
  const roomWithFeed = async (roomId: string) => {
    room = await BroadcastRoom.create({ pool, roomId, logger: silent, layerPolicyIntervalMs: 0, sipCodecs: true });
    const feed = await room.sip.createFeed({ streams: [{ codec: 'H264', ssrc: FEED_SSRC, payloadType: FEED_PT }] });
    return { worker: pool.slots[0]!.worker!, stream: feed.streams[0]! };
  };
  afterEach(() => {
    clearInterval(timer);
    room?.close();
    for (const s of sockets.splice(0)) s.sock.close();
  });

  test('96 and 109 at once, a shared router per number, closed with its last leg', async () => {
    const { worker, stream } = await roomWithFeed('pt');
    const [rtpOut, rtcpOut, a, b, c] = await Promise.all([socket(), socket(), socket(), socket(), socket()]);
    sockets.push(rtpOut, rtcpOut, a, b, c);
    let seq = 0;
    timer = setInterval(() => rtpOut.sock.send(h264Packet(seq++), stream.port, stream.ip), 20);
    rtcpOut.sock.send(senderReport(), stream.rtcpPort, stream.ip);

    const routersBefore = await routerCount(worker);
    const open = (s: Socket, payloadType: number): Promise<SipLegInfo> =>
      room.sip.openLeg({
        producerId: stream.producerId,
        codec: 'H264',
        payloadType,
        listen: { ip: '127.0.0.1' },
        ip: '127.0.0.1',
        port: s.port,
        rtcpPort: s.port,
        rtcpMux: true,
      });
    const [legA, legB, legC] = await Promise.all([open(a, 96), open(b, 109), open(c, 109)]);
    expect([legA.payloadType, legB.payloadType, legC.payloadType]).toEqual([96, 109, 109]);
    // The origin router's H.264 is neither 96 nor 109: one payload router each, 109's shared.
    expect(room.sip.payloadRouters).toBe(2);
    expect(await routerCount(worker)).toBe(routersBefore + 2);

    await waitFor(() => a.rtp > 10 && b.rtp > 10 && c.rtp > 10, 'every room system to receive the feed', 10_000);
    expect([...a.pts]).toEqual([96]);
    expect([...b.pts]).toEqual([109]);
    expect([...c.pts]).toEqual([109]);

    // A room system's key-frame request crosses its payload router's pipe to the transcoder.
    const plis = rtcpOut.plis;
    b.sock.send(pli(b.ssrc!), legB.port, legB.ip);
    await waitFor(() => rtcpOut.plis > plis, 'the room system’s key-frame request to reach the transcoder', 10_000);

    room.sip.closeLeg(legA.legId);
    await waitFor(async () => (await routerCount(worker)) === routersBefore + 1, '96’s router to close', 5_000);
    expect(room.sip.payloadRouters).toBe(1);
    room.sip.closeLeg(legB.legId);
    // 109's router still serves the third room system.
    const received = c.rtp;
    await waitFor(() => c.rtp > received + 10, 'the third room system to keep receiving', 5_000);
    expect(await routerCount(worker)).toBe(routersBefore + 1);
    room.sip.closeLeg(legC.legId);
    await waitFor(async () => (await routerCount(worker)) === routersBefore, '109’s router to close', 5_000);
    expect(room.sip.payloadRouters).toBe(0);
  });

  test("the origin router's own number needs no payload router; closing the room closes them", async () => {
    const { worker, stream } = await roomWithFeed('pt2');
    const [x, y] = await Promise.all([socket(), socket()]);
    sockets.push(x, y);
    const routersBefore = await routerCount(worker);
    const base = {
      producerId: stream.producerId,
      codec: 'H264' as const,
      listen: { ip: '127.0.0.1' },
      ip: '127.0.0.1',
      rtcpMux: true,
    };
    const first = await room.sip.openLeg({ ...base, payloadType: 96, port: x.port, rtcpPort: x.port });
    expect(room.sip.payloadRouters).toBe(1);
    // The router's own number for H.264 (what a leg got before payload routers existed).
    const own = room.rtpCapabilities.codecs!.find((k) => k.mimeType === 'video/H264')!.preferredPayloadType!;
    const second = await room.sip.openLeg({ ...base, payloadType: own, port: y.port, rtcpPort: y.port });
    expect(second.payloadType).toBe(own);
    expect(first.payloadType).toBe(96);
    expect(room.sip.payloadRouters).toBe(1);
    room.close();
    await waitFor(
      async () => (await routerCount(worker)) === routersBefore - 1,
      'every router of the room to close',
      5_000,
    );
  });
});
