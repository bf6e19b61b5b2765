// RTX as the virtual points negotiate and read it: the capabilities they offer (video/rtx
// for VP8, as Chromium), the unwrapping of a decrypted RTX packet into the packet it
// repairs (RFC 4588: 2-byte original sequence number, then the original payload), the
// feedback counting an unwrapped retransmission as the NACKed packet, and a receiver
// reading RTX packets from a reference SRTP sender.
import { RtcpPacketConverter, RtcpTransportLayerFeedback, TransportWideCC } from 'werift';
import { PointFeedback, type StreamStats } from '../../scripts/loadgen/point-feedback';
import { Receiver, lostOf, readWithKeys } from '../../scripts/loadgen/receiver';
import { rtxNotWanted, unwrapRtx } from '../../scripts/loadgen/rtx';
import { newStream } from '../../scripts/loadgen/stream-stats';
import { SrtpReferenceSender, rtpHeader } from '../helpers/srtp-reference';
import { receiveCapabilities, type Caps } from '../../scripts/loadgen/werift-link';

const MEDIA_SSRC = 0x0a0b0c0d;
const RTX_SSRC = 0x11223344;

/** A clear RTX packet: PT 97, its own SSRC and sequence, a one-byte header extension, optional padding. */
function rtxPacket(opts: {
  osn: number;
  payload: Buffer;
  marker?: boolean;
  padding?: number;
  csrc?: number[];
}): Buffer {
  const csrc = opts.csrc ?? [];
  const ext = Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x31, 0x12, 0x34, 0x00]); // id 3, 2 bytes: 0x1234
  const head = Buffer.alloc(12 + csrc.length * 4);
  head[0] = 0x80 | 0x10 | (opts.padding ? 0x20 : 0) | csrc.length;
  head[1] = (opts.marker ? 0x80 : 0) | 97;
  head.writeUInt16BE(4242, 2); // the RTX stream's own sequence number
  head.writeUInt32BE(0xdeadbeef, 4);
  head.writeUInt32BE(RTX_SSRC, 8);
  csrc.forEach((c, i) => head.writeUInt32BE(c, 12 + i * 4));
  const osn = Buffer.alloc(2);
  osn.writeUInt16BE(opts.osn, 0);
  const pad = opts.padding ? Buffer.alloc(opts.padding, 0) : Buffer.alloc(0);
  if (opts.padding) pad[opts.padding - 1] = opts.padding;
  return Buffer.concat([head, ext, osn, opts.payload, pad]);
}

describe('RTX at a virtual point', () => {
  test('the points offer video/rtx for VP8 alone, without feedback, only when asked and not silent', () => {
    const router: Caps = {
      codecs: [
        { kind: 'audio', mimeType: 'audio/opus', preferredPayloadType: 100, parameters: {} },
        { kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 101, parameters: {} },
        { kind: 'video', mimeType: 'video/rtx', preferredPayloadType: 102, parameters: { apt: 101 } },
        { kind: 'video', mimeType: 'video/H264', preferredPayloadType: 103, parameters: {} },
        { kind: 'video', mimeType: 'video/rtx', preferredPayloadType: 104, parameters: { apt: 103 } },
      ],
      headerExtensions: [],
    };
    const rtx = (c: Caps) => c.codecs.filter((x) => x.mimeType === 'video/rtx');
    expect(rtx(receiveCapabilities(router, false, true))).toEqual([
      { kind: 'video', mimeType: 'video/rtx', preferredPayloadType: 102, parameters: { apt: 101 }, rtcpFeedback: [] },
    ]);
    expect(rtx(receiveCapabilities(router, false, false))).toEqual([]);
    expect(rtx(receiveCapabilities(router, true, true))).toEqual([]);
    expect(receiveCapabilities(router, false, true).codecs.map((c) => c.mimeType)).toEqual([
      'audio/opus',
      'video/VP8',
      'video/rtx',
    ]);
  });

  test('an RTX packet unwraps into the original: its sequence number, SSRC, payload type and payload', () => {
    const payload = Buffer.from([0x90, 0x80, 0x12, 0x34, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a]);
    const clear = rtxPacket({ osn: 0xfffe, payload, marker: true, padding: 4, csrc: [0x01020304] });
    const orig = unwrapRtx(clear, MEDIA_SSRC, 101)!;
    expect(orig).toBeDefined();
    expect(orig.readUInt16BE(2)).toBe(0xfffe);
    expect(orig.readUInt32BE(8)).toBe(MEDIA_SSRC);
    expect(orig[1]! & 0x7f).toBe(101);
    expect(orig[1]! & 0x80).toBe(0x80); // the marker is the original's
    expect(orig[0]! & 0x20).toBe(0); // padding gone
    expect(orig[0]! & 0x1f).toBe(0x11); // extension bit and one CSRC kept
    expect(orig.readUInt32BE(4)).toBe(0xdeadbeef);
    expect(orig.readUInt32BE(12)).toBe(0x01020304);
    expect(orig.subarray(16, 24)).toEqual(Buffer.from([0xbe, 0xde, 0x00, 0x01, 0x31, 0x12, 0x34, 0x00]));
    expect(orig.subarray(24)).toEqual(payload);
    expect(orig.length).toBe(clear.length - 2 - 4);
    // Without padding, CSRCs or marker: the same, and the RTX packet is left as it was.
    const plain = rtxPacket({ osn: 7, payload });
    const copy = Buffer.from(plain);
    const o2 = unwrapRtx(plain, MEDIA_SSRC, 101)!;
    expect(o2.readUInt16BE(2)).toBe(7);
    expect(o2[1]! & 0x80).toBe(0);
    expect(o2.subarray(20)).toEqual(payload);
    expect(plain).toEqual(copy);
  });

  test('padding alone, or no room for the original sequence number, is no packet', () => {
    expect(
      unwrapRtx(rtxPacket({ osn: 1, payload: Buffer.alloc(0), padding: 2 }).subarray(0, 21), MEDIA_SSRC, 101),
    ).toBe(undefined);
    const padOnly = rtxPacket({ osn: 0, payload: Buffer.alloc(0), padding: 6 });
    // The OSN bytes are padding too: 2 + 6 bytes after the header, all padding.
    padOnly[padOnly.length - 1] = 8;
    expect(unwrapRtx(padOnly, MEDIA_SSRC, 101)).toBe(undefined);
    expect(unwrapRtx(Buffer.alloc(8), MEDIA_SSRC, 101)).toBe(undefined);
  });

  test('an unwrapped retransmission fills the NACKed hole: recovered, counted as RTX, a second copy a duplicate', () => {
    const sent: Buffer[] = [];
    const fb = new PointFeedback((b) => sent.push(b));
    fb.tccExtId = 3;
    const s: StreamStats = { kind: 'video', ssrc: MEDIA_SSRC, received: 0, firstSeq: -1, maxSeq: -1, jitter: 0 };
    /** A packet with the transport-wide sequence number `tcc` (extension id 3). */
    const withTcc = (pkt: Buffer, tcc: number) => {
      const cc = pkt[0]! & 0x0f;
      const out = Buffer.from(pkt);
      if (out[0]! & 0x10) out.writeUInt16BE(tcc, 12 + cc * 4 + 5);
      return out;
    };
    const media = (seq: number, tcc: number) => {
      const b = Buffer.alloc(30);
      b[0] = 0x90;
      b[1] = 101;
      b.writeUInt16BE(seq, 2);
      b.writeUInt32BE(MEDIA_SSRC, 8);
      b.set([0xbe, 0xde, 0x00, 0x01, 0x31, 0x00, 0x00, 0x00], 12);
      return withTcc(b, tcc);
    };
    const feed = (pkt: Buffer, ext: number, now: number, rtx = false) => {
      const prev = s.maxSeq;
      if (!fb.onPacket(pkt, s, ext, prev, now, rtx)) return false;
      if (s.firstSeq < 0) s.firstSeq = ext;
      s.maxSeq = Math.max(s.maxSeq, ext);
      s.received += 1;
      return true;
    };
    feed(media(10, 1), 10, 0);
    feed(media(12, 2), 12, 1); // 11 missing
    fb.tick(100); // NACKed
    const wire = rtxPacket({ osn: 11, payload: Buffer.from([1, 2, 3]) });
    const orig = unwrapRtx(wire, MEDIA_SSRC, 101)!;
    expect(feed(withTcc(orig, 3), orig.readUInt16BE(2), 150, true)).toBe(true);
    expect(feed(withTcc(orig, 4), orig.readUInt16BE(2), 160, true)).toBe(false);
    // An RTX packet that cannot be counted still has its transport-wide number recorded.
    fb.onTransportSeq(withTcc(wire, 5), 170);
    expect(fb.counts).toMatchObject({ recovered: 1, rtxRecovered: 1, duplicates: 1, nackedPackets: 1 });
    expect(s.received).toBe(3);
    // Transport-cc reports the three since the last feedback as received: the repair, the
    // duplicate and the uncounted RTX packet.
    sent.length = 0;
    fb.tick(200);
    const cc = sent
      .flatMap((b) => RtcpPacketConverter.deSerialize(b))
      .map((p) => (p as RtcpTransportLayerFeedback).feedback)
      .find((f): f is TransportWideCC => f instanceof TransportWideCC)!;
    expect(cc).toMatchObject({ baseSequenceNumber: 3, packetStatusCount: 3 });
    expect(cc.recvDeltas).toHaveLength(3);
  });
});

describe('a receiver reading RTX from the SFU', () => {
  // Fixed keys: which garbage a corrupted packet's unverified reading gives depends on them.
  const sender = new SrtpReferenceSender(Buffer.alloc(16, 0x11), Buffer.alloc(12, 0x22));
  const RTX_PT = 97;

  // Not a key frame's start (S=0): the receiver reads but does not wait on it.
  const vp8 = Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05]);
  const media = (seq: number) => sender.protect(rtpHeader(MEDIA_SSRC, seq, seq * 3000), vp8, 0);
  /** The RTX stream's packet `rtxSeq` (its own ROC), carrying media packet `osn`. */
  const rtx = (rtxSeq: number, roc: number, osn: number) => {
    const payload = Buffer.concat([Buffer.from([osn >> 8, osn & 0xff]), vp8]);
    return sender.protect(rtpHeader(RTX_SSRC, rtxSeq, osn * 3000, RTX_PT), payload, roc);
  };

  test('RTX decrypts with its own SSRC index across 65535→0; failed checks are counted apart and move nothing', () => {
    const r = new Receiver();
    const read = readWithKeys(r, sender.receiverSession());
    r.expect(MEDIA_SSRC, 'video', 90000);
    r.expectRtx(RTX_SSRC, MEDIA_SSRC, 101);
    const fb = r.feedback!;

    read(rtx(65533, 0, 99)); // before the media stream's first packet: authenticated, not counted
    expect(fb.counts).toMatchObject({ rtxDropped: 1, rtxPackets: 0, rtxAuthFailures: 0 });

    const mediaSent = [100, 101, 102, 103, 104, 109, 110].map(media);
    for (const p of mediaSent) read(p);
    const video = r.streams.get(MEDIA_SSRC)!;
    expect(lostOf(video)).toBe(4); // 105-108
    fb.tick(performance.now()); // NACKed

    const repairs = [rtx(65534, 0, 105), rtx(65535, 0, 106), rtx(0, 1, 107)];
    for (const p of repairs) read(p);
    // Two packets that fail the SRTP check, far ahead on the RTX stream: had they moved its
    // index count, the next genuine packet would be read with ROC 2 and fail too.
    for (const seq of [0x7001, 0xe001]) {
      const bad = rtx(seq, 1, 200);
      bad[bad.length - 1] = bad[bad.length - 1]! ^ 0xff;
      read(bad);
    }
    const last = rtx(1, 1, 108);
    read(last);
    read(rtx(2, 1, 106)); // a spurious retransmission: skipped before the decrypt

    expect(lostOf(video)).toBe(0);
    expect(video.received).toBe(11);
    expect(video.maxSeq).toBe(110);
    expect(fb.counts).toMatchObject({
      rtxPackets: 4,
      rtxRecovered: 4,
      recovered: 4,
      duplicates: 0,
      rtxDropped: 1,
    });
    // The first bad packet is past the unverified reading's span: decrypted, and failed.
    // The second reads (with the RTX stream's ROC 0, as its index says) a garbage original
    // sequence number, with these keys one that names nothing lacked: skipped, as is the
    // spurious retransmission.
    expect(fb.counts.rtxAuthFailures).toBe(1);
    expect(fb.counts.rtxSkippedUnverified).toBe(2);
    // The stream's bytes are the media SSRC's; the retransmissions are counted apart.
    expect(video.bytes).toBe(mediaSent.reduce((a, p) => a + p.length, 0));
    expect(video.rtxBytes).toBe([...repairs, last].reduce((a, p) => a + p.length, 0));
  });
});

describe('rtxNotWanted', () => {
  test('a packet with padding is never skipped unread: its first bytes may be no OSN', () => {
    const media = newStream('video', 2, 90000);
    media.firstSeq = 100;
    media.maxSeq = 110;
    const x = { mediaSsrc: MEDIA_SSRC, payloadType: 96, maxExt: 10 };
    // The unverified reading names packet 105, which the stream already has.
    const reader = { peek: () => Buffer.from([0, 105]) };
    const lacks = { lacks: () => false };
    const pkt = rtpHeader(RTX_SSRC, 11, 0, 97);
    expect(rtxNotWanted(pkt, x, reader, 11, media, lacks)).toBe(true);
    pkt[0] = pkt[0]! | 0x20; // the padding bit
    expect(rtxNotWanted(pkt, x, reader, 11, media, lacks)).toBe(false);
  });
});
