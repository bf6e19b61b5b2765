// The load generator's hand-written RTP/RTCP: the simulcast hall's VP8 packetizer and IVF
// reader, the feedback it reads, and the points' RTCP (RR, NACK, PLI, transport-cc),
// checked against werift's parsers; and the points' NACK → give up → PLI decisions.
import {
  GenericNack,
  RtcpPacketConverter,
  RtcpRrPacket,
  RtcpTransportLayerFeedback,
  StatusVectorChunk,
  TransportWideCC,
} from 'werift';
import { PointFeedback, type StreamStats } from '../../scripts/loadgen/point-feedback';
import { isVp8KeyFrameStart } from '../../scripts/loadgen/receiver';
import {
  genericNack,
  pictureLossIndication,
  receiverReport,
  transportFeedback,
} from '../../scripts/loadgen/rtcp-write';
import { packetizeVp8, parseIvf, readFeedback, senderReport } from '../../scripts/loadgen/vp8-rtp';

function ivf(frames: Buffer[]): Buffer {
  const head = Buffer.alloc(32);
  head.write('DKIF', 0, 'latin1');
  head.writeUInt16LE(32, 6);
  head.write('VP80', 8, 'latin1');
  head.writeUInt16LE(320, 12);
  head.writeUInt16LE(180, 14);
  const parts: Buffer[] = [head];
  frames.forEach((f, i) => {
    const h = Buffer.alloc(12);
    h.writeUInt32LE(f.length, 0);
    h.writeUInt32LE(i, 4);
    parts.push(h, f);
  });
  return Buffer.concat(parts);
}

describe('simulcast hall: VP8 over RTP', () => {
  test('IVF frames are read with their key flag; a file not starting with a key frame is refused', () => {
    const key = Buffer.from([0x10, 1, 2, 3]); // P bit 0
    const delta = Buffer.from([0x11, 4, 5]); // P bit 1
    const clip = parseIvf(ivf([key, delta, key]));
    expect(clip.width).toBe(320);
    expect(clip.frames.map((f) => f.key)).toEqual([true, false, true]);
    expect(clip.frames[1]!.data).toEqual(delta);
    expect(() => parseIvf(ivf([delta, key]))).toThrow(/key frame/);
    expect(() => parseIvf(Buffer.from('nope'))).toThrow(/IVF/);
  });

  test('a frame becomes packets of at most 1200 bytes: S on the first, marker on the last, one picture id', () => {
    const frame = Buffer.alloc(5000, 7);
    frame[0] = 0x10; // a key frame
    const st = { ssrc: 1234, payloadType: 101, seq: 0xfffe, pictureId: 0x7fff, tl0PicIdx: 255 };
    const pkts = packetizeVp8(frame, 90000, st);
    expect(pkts.length).toBe(5);
    for (const p of pkts) expect(p.length).toBeLessThanOrEqual(1200);
    expect(pkts.map((p) => p.readUInt16BE(2))).toEqual([0xfffe, 0xffff, 0, 1, 2]);
    expect(pkts.map((p) => p[1]! >> 7)).toEqual([0, 0, 0, 0, 1]);
    expect(pkts.map((p) => (p[12]! >> 4) & 1)).toEqual([1, 0, 0, 0, 0]);
    for (const p of pkts) expect(p.readUInt16BE(14) & 0x7fff).toBe(0x7fff);
    for (const p of pkts) expect([p[16], p[17]]).toEqual([255, 0x20]);
    expect(Buffer.concat(pkts.map((p) => p.subarray(18)))).toEqual(frame);
    expect(isVp8KeyFrameStart(pkts[0]!)).toBe(true);
    expect(isVp8KeyFrameStart(pkts[1]!)).toBe(false);
    expect(st).toMatchObject({ seq: 3, pictureId: 0, tl0PicIdx: 0 });
    const delta = packetizeVp8(Buffer.from([0x11, 0, 0]), 93000, st);
    expect(isVp8KeyFrameStart(delta[0]!)).toBe(false);
  });

  test('the hall reads PLI, FIR and NACK from a compound packet and skips the rest', () => {
    const fir = Buffer.alloc(20);
    fir[0] = 0x84;
    fir[1] = 206;
    fir.writeUInt16BE(4, 2);
    fir.writeUInt32BE(77, 12);
    const compound = Buffer.concat([
      senderReport(9, Date.now(), 1, 2, 3),
      pictureLossIndication(1, 55),
      fir,
      genericNack(1, 66, [10, 11, 26, 27, 500]),
    ]);
    expect(readFeedback(compound)).toEqual([
      { type: 'pli', ssrc: 55 },
      { type: 'fir', ssrc: 77 },
      { type: 'nack', ssrc: 66, seqs: [10, 11, 26, 27, 500] },
    ]);
  });
});

describe("points' RTCP, read back by werift", () => {
  test('a receiver report carries loss, the highest sequence, jitter, LSR and DLSR', () => {
    const rr = receiverReport(42, [
      {
        ssrc: 5,
        fractionLost: 25.6,
        cumulativeLost: 3,
        extendedHighestSeq: 70000,
        jitter: 90,
        lsr: 0x1234,
        dlsr: 65536,
      },
    ]);
    const [p] = RtcpPacketConverter.deSerialize(rr);
    expect(p).toBeInstanceOf(RtcpRrPacket);
    const info = (p as RtcpRrPacket).reports[0]!;
    expect(info).toMatchObject({
      ssrc: 5,
      fractionLost: 25,
      packetsLost: 3,
      highestSequence: 70000,
      jitter: 90,
      lsr: 0x1234,
      dlsr: 65536,
    });
  });

  test('a NACK names the packets asked for, across the 16-bit wrap', () => {
    const [p] = RtcpPacketConverter.deSerialize(genericNack(1, 2, [0xfffe, 3, 0xffff, 40]));
    const nack = (p as RtcpTransportLayerFeedback).feedback as GenericNack;
    expect(nack.mediaSourceSsrc).toBe(2);
    expect([...nack.lost].sort((a, b) => a - b)).toEqual([3, 40, 0xfffe, 0xffff]);
  });

  test('transport-cc feedback: statuses and arrival deltas of received and lost packets', () => {
    const t0 = 1_000_000.25;
    const arrivals = [t0, t0 + 1, NaN, t0 + 2.5, t0 + 100, t0 + 90, NaN, NaN, t0 + 101];
    const fb = transportFeedback(7, 8, 0xfffd, arrivals, 3);
    expect(fb.length % 4).toBe(0);
    const [p] = RtcpPacketConverter.deSerialize(fb);
    const cc = (p as RtcpTransportLayerFeedback).feedback as TransportWideCC;
    expect(cc).toBeInstanceOf(TransportWideCC);
    expect(cc).toMatchObject({ baseSequenceNumber: 0xfffd, packetStatusCount: 9, fbPktCount: 3 });
    // Two-bit status vectors: 1 small delta, 2 large or negative, 0 not received.
    const symbols = cc.packetChunks.flatMap((c) => (c as StatusVectorChunk).symbolList).slice(0, 9);
    expect(symbols).toEqual([1, 1, 0, 1, 2, 2, 0, 0, 1]);
    // Deltas (µs, 250 µs resolution) from the reference time (64 ms units), then each from the last.
    expect(cc.referenceTime * 64).toBe(1_000_000);
    expect(cc.recvDeltas.map((d) => d.delta)).toEqual([250, 1000, 1500, 97_500, -10_000, 11_000]);
  });
});

describe('a point asks for what it misses', () => {
  function rtp(seq: number, marker = false): Buffer {
    const b = Buffer.alloc(40);
    b[0] = 0x80;
    b[1] = (marker ? 0x80 : 0) | 96;
    b.writeUInt16BE(seq & 0xffff, 2);
    return b;
  }

  test('a gap is NACKed every tick up to ten times; a packet that comes back is recovered; the rest is given up with a PLI', () => {
    const sent: Buffer[] = [];
    const fb = new PointFeedback((b) => sent.push(b));
    const s: StreamStats = { kind: 'video', ssrc: 99, received: 0, firstSeq: -1, maxSeq: -1, jitter: 0 };
    const feed = (ext: number, now: number) => {
      const prev = s.maxSeq;
      if (!fb.onPacket(rtp(ext), s, ext, prev, now)) return false;
      if (s.firstSeq < 0) s.firstSeq = ext;
      s.maxSeq = Math.max(s.maxSeq, ext);
      s.received += 1;
      return true;
    };
    feed(100, 0);
    feed(101, 1);
    feed(104, 2); // 102 and 103 missing
    fb.tick(100);
    const nacks = () => sent.flatMap(readFeedback).filter((f) => f.type === 'nack');
    expect(nacks()).toEqual([{ type: 'nack', ssrc: 99, seqs: [102, 103] }]);
    expect(feed(103, 150)).toBe(true); // resent
    expect(feed(103, 151)).toBe(false); // a duplicate is not counted again
    // libwebrtc's default RTT (100 ms, none measured): again at every 100 ms tick, ten in all.
    for (let t = 200; t <= 1000; t += 100) fb.tick(t);
    expect(nacks().slice(1)).toEqual(Array(9).fill({ type: 'nack', ssrc: 99, seqs: [102] }));
    expect(fb.counts).toMatchObject({ recovered: 1, duplicates: 1, nackedPackets: 11, unrecovered: 0 });
    expect(fb.wantsKeyFrame(99)).toBe(false);
    fb.tick(1100); // no eleventh NACK; its retransmission may still come
    expect(fb.counts).toMatchObject({ nackedPackets: 11, unrecovered: 0 });
    fb.tick(1200);
    expect(fb.counts.unrecovered).toBe(1);
    expect(fb.wantsKeyFrame(99)).toBe(true);
    expect(sent.flatMap(readFeedback).filter((f) => f.type === 'pli')).toEqual([{ type: 'pli', ssrc: 99 }]);
    fb.onKeyFrame(99, 1300);
    expect(fb.wantsKeyFrame(99)).toBe(false);
    // Frozen from the loss (at 2 ms) to the key frame.
    expect(fb.counts).toMatchObject({ freezes: 1, freezeMs: 1298 });
    // A receiver report went out with the loss so far.
    fb.tick(1500);
    const rr = sent.map((b) => RtcpPacketConverter.deSerialize(b)[0]).find((p) => p instanceof RtcpRrPacket);
    expect((rr as RtcpRrPacket).reports[0]).toMatchObject({ ssrc: 99, packetsLost: 1, highestSequence: 104 });
  });

  test('a gap is NACKed whole up to 1000 packets; one that would take the list past 1000 clears it for a key frame', () => {
    const sent: Buffer[] = [];
    const fb = new PointFeedback((b) => sent.push(b));
    const s: StreamStats = { kind: 'video', ssrc: 99, received: 0, firstSeq: -1, maxSeq: -1, jitter: 0 };
    const feed = (ext: number, now: number) => {
      fb.onPacket(rtp(ext), s, ext, s.maxSeq, now);
      if (s.firstSeq < 0) s.firstSeq = ext;
      s.maxSeq = Math.max(s.maxSeq, ext);
      s.received += 1;
    };
    const nacked = () =>
      sent
        .flatMap(readFeedback)
        .filter((f) => f.type === 'nack')
        .flatMap((f) => (f as { seqs: number[] }).seqs);
    feed(1000, 0);
    feed(1301, 1); // 300 missing: every one NACKed
    fb.tick(100);
    expect(nacked()).toHaveLength(300);
    expect(nacked()[0]).toBe(1001);
    expect(fb.wantsKeyFrame(99)).toBe(false);
    sent.length = 0;
    feed(2002, 150); // 700 more: 1000 on the list, not past it
    expect(fb.wantsKeyFrame(99)).toBe(false);
    feed(2004, 151); // one more: past 1000, the list is cleared
    fb.tick(200);
    expect(nacked()).toEqual([]);
    expect(fb.counts.unrecovered).toBe(1001);
    expect(fb.wantsKeyFrame(99)).toBe(true);
    expect(sent.flatMap(readFeedback).filter((f) => f.type === 'pli')).toEqual([{ type: 'pli', ssrc: 99 }]);
  });
});
