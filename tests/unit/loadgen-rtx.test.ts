// RTX as the virtual points negotiate and read it: the capabilities they offer (video/rtx
// for VP8, as Chromium), the unwrapping of a decrypted RTX packet into the packet it
// repairs (RFC 4588: 2-byte original sequence number, then the original payload), and the
// feedback counting an unwrapped retransmission as the NACKed packet.
import { PointFeedback, type StreamStats } from '../../scripts/loadgen/point-feedback';
import { unwrapRtx } from '../../scripts/loadgen/rtx';
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
    const fb = new PointFeedback(() => undefined);
    const s: StreamStats = { kind: 'video', ssrc: MEDIA_SSRC, received: 0, firstSeq: -1, maxSeq: -1, jitter: 0 };
    const media = (seq: number) => {
      const b = Buffer.alloc(30);
      b[0] = 0x80;
      b[1] = 101;
      b.writeUInt16BE(seq, 2);
      b.writeUInt32BE(MEDIA_SSRC, 8);
      return b;
    };
    const feed = (pkt: Buffer, ext: number, now: number, rtx = false) => {
      const prev = s.maxSeq;
      if (!fb.onPacket(pkt, s, ext, prev, now, rtx)) return false;
      if (s.firstSeq < 0) s.firstSeq = ext;
      s.maxSeq = Math.max(s.maxSeq, ext);
      s.received += 1;
      return true;
    };
    feed(media(10), 10, 0);
    feed(media(12), 12, 1); // 11 missing
    fb.tick(100); // NACKed
    const orig = unwrapRtx(rtxPacket({ osn: 11, payload: Buffer.from([1, 2, 3]) }), MEDIA_SSRC, 101)!;
    expect(feed(orig, orig.readUInt16BE(2), 150, true)).toBe(true);
    expect(feed(orig, orig.readUInt16BE(2), 160, true)).toBe(false);
    expect(fb.counts).toMatchObject({ recovered: 1, rtxRecovered: 1, duplicates: 1, nackedPackets: 1 });
    expect(s.received).toBe(3);
  });
});
