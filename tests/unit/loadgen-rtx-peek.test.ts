// Reading an RTX packet's original sequence number before the full decrypt: the first
// payload bytes of an SRTP packet recovered from AES-GCM's counter mode without the tag
// (srtp-index.ts peek), checked against a node:crypto aes-128-gcm reference sender; and a
// receiver skipping, undecrypted, a retransmission of a packet it already has, while one
// that would fill a hole is still authenticated before it counts.
import { SrtpReferenceSender } from '../helpers/srtp-reference';
import { SrtpStreamReader, extendSeq } from '../../scripts/loadgen/srtp-index';
import { Receiver, lostOf, readWithKeys } from '../../scripts/loadgen/receiver';

const MEDIA_SSRC = 0x0a0b0c0d;
const RTX_SSRC = 0x11223344;
const RTX_PT = 97;

function header(ssrc: number, pt: number, seq: number, ts: number, opts: { csrc?: number; ext?: boolean } = {}) {
  const csrc = opts.csrc ?? 0;
  const h = Buffer.alloc(12 + csrc * 4 + (opts.ext ? 8 : 0));
  h[0] = 0x80 | (opts.ext ? 0x10 : 0) | csrc;
  h[1] = pt;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  for (let i = 0; i < csrc; i++) h.writeUInt32BE(0x100 + i, 12 + i * 4);
  // One-byte header extension (id 3, transport-wide sequence number), sent in clear.
  if (opts.ext) h.set([0xbe, 0xde, 0x00, 0x01, 0x31, 0x00, 0x07, 0x00], 12 + csrc * 4);
  return h;
}

describe('peek: the first payload bytes without the full decrypt', () => {
  const sender = new SrtpReferenceSender();

  test('equal the aes-128-gcm plaintext, across CSRCs, header extensions, ROCs and a late join', () => {
    const cipher = sender.receiverSession().remoteContext.cipher;
    const reader = new SrtpStreamReader(cipher);
    // The receiver's count starts at 0 on its first packet; the sender's ROC is already 1.
    const payloadOf = (seq: number) => Buffer.from(Array.from({ length: 40 }, (_, i) => (seq * 7 + i * 13) & 0xff));
    const protect = (seq: number, roc: number, opts: { csrc?: number; ext?: boolean } = {}) =>
      sender.protect(header(RTX_SSRC, RTX_PT, seq, seq * 90, opts), payloadOf(seq), roc);

    const first = protect(65530, 1);
    expect(reader.peek(first, 65530)).toBeUndefined(); // ROC unknown until one authenticates
    expect(reader.decrypt(first, 65530)).toBeDefined();
    expect(reader.rocOffset).toBe(1);

    let max = 65530;
    const cases: [number, number, { csrc?: number; ext?: boolean }][] = [
      [65531, 1, {}],
      [65535, 1, { csrc: 2 }],
      [0, 2, { ext: true }], // the sender wrapped: ROC 2, our count 1
      [3, 2, { csrc: 1, ext: true }],
      [65529, 1, { ext: true }], // reordered from before the wrap
    ];
    for (const [seq, roc, opts] of cases) {
      const pkt = protect(seq, roc, opts);
      const ext = extendSeq(max, seq);
      if (ext > max) max = ext;
      const peeked = reader.peek(pkt, ext)!;
      expect(peeked).toEqual(payloadOf(seq).subarray(0, 16));
      // The same bytes the authenticated decrypt gives.
      const clear = reader.decrypt(pkt, ext)!;
      expect(peeked).toEqual(clear.subarray(clear.length - 40, clear.length - 24));
      expect(reader.peek(pkt, ext, 2)).toEqual(payloadOf(seq).subarray(0, 2));
    }
    // No more payload than asked for: nothing read past it into the tag.
    const short = sender.protect(header(RTX_SSRC, RTX_PT, 5, 0), Buffer.from([1]), 2);
    expect(reader.peek(short, 65536 + 5, 2)).toBeUndefined();
    expect(reader.peek(short, 65536 + 5, 1)).toEqual(Buffer.from([1]));
  });
});

describe('a receiver skips a duplicate retransmission before the decrypt', () => {
  const sender = new SrtpReferenceSender();
  // Not a key frame's start (S=0): the receiver reads but does not wait on it.
  const vp8 = Buffer.from([0x00, 0x01, 0x02, 0x03, 0x04, 0x05]);
  const media = (seq: number) => sender.protect(header(MEDIA_SSRC, 101, seq, seq * 3000), vp8, 0);
  /** The RTX stream's packet `rtxSeq`, its sender ROC 1 (the stream wrapped before the point joined). */
  const rtx = (rtxSeq: number, osn: number) =>
    sender.protect(
      header(RTX_SSRC, RTX_PT, rtxSeq, osn * 3000, { ext: true }),
      Buffer.concat([Buffer.from([osn >> 8, osn & 0xff]), vp8]),
      1,
    );

  function point() {
    const session = sender.receiverSession();
    const decrypts = jest.spyOn(session.remoteContext.cipher, 'decryptRtp');
    const r = new Receiver();
    const read = readWithKeys(r, session);
    r.expect(MEDIA_SSRC, 'video', 90000);
    r.expectRtx(RTX_SSRC, MEDIA_SSRC, 101);
    const fb = r.feedback!;
    const tcc = jest.spyOn(fb, 'onTransportSeq');
    for (const seq of [100, 101, 102, 103, 104, 109, 110]) read(media(seq));
    fb.tick(performance.now()); // 105-108 NACKed
    decrypts.mockClear();
    return { r, read, fb, decrypts, tcc, video: r.streams.get(MEDIA_SSRC)! };
  }

  test('one of a packet already received, or already repaired, costs no decrypt and counts apart', () => {
    const { read, fb, decrypts, tcc, video } = point();
    read(rtx(10, 105)); // the RTX stream's first packet: decrypted (its ROC found: 0 tried, then 1)
    expect(decrypts).toHaveBeenCalledTimes(2);
    read(rtx(11, 106));
    expect(decrypts).toHaveBeenCalledTimes(3);
    expect(fb.counts).toMatchObject({ rtxPackets: 2, rtxRecovered: 2, rtxSkippedUnverified: 0 });

    tcc.mockClear();
    read(rtx(12, 105)); // repaired already
    read(rtx(13, 103)); // arrived on the media SSRC
    read(rtx(14, 40)); // before the stream's first packet: nothing the point tracks
    expect(decrypts).toHaveBeenCalledTimes(3);
    expect(fb.counts).toMatchObject({ rtxPackets: 2, rtxSkippedUnverified: 3, duplicates: 0, rtxAuthFailures: 0 });
    // Recorded for transport-cc all the same, as every packet that arrives.
    expect(tcc).toHaveBeenCalledTimes(3);

    read(rtx(15, 107)); // a hole: decrypted
    expect(decrypts).toHaveBeenCalledTimes(4);
    expect(fb.counts).toMatchObject({ rtxPackets: 3, rtxRecovered: 3, rtxSkippedUnverified: 3 });
    expect(video.received).toBe(10);
    expect(lostOf(video)).toBe(1); // 108
  });

  test('a tampered packet that would fill a hole is decrypted and fails: an auth failure, the hole left', () => {
    const { read, fb, decrypts, video } = point();
    read(rtx(10, 105));
    decrypts.mockClear();
    const lost = lostOf(video);

    // Its tag broken: the OSN reads as 106 (a hole), the decrypt fails.
    const badTag = rtx(11, 106);
    badTag[badTag.length - 1] = badTag[badTag.length - 1]! ^ 0x01;
    read(badTag);
    // A retransmission of 104 (received) turned into 107 by flipping cipher text bits:
    // counter mode lets the OSN be rewritten, the tag does not.
    const forged = rtx(12, 104);
    const osnAt = 12 + 8; // after the header and its extension
    forged[osnAt + 1] = forged[osnAt + 1]! ^ (104 ^ 107);
    read(forged);

    expect(decrypts).toHaveBeenCalledTimes(2);
    expect(fb.counts).toMatchObject({ rtxAuthFailures: 2, rtxSkippedUnverified: 0, rtxPackets: 1, rtxRecovered: 1 });
    expect(lostOf(video)).toBe(lost);

    // The stream's index count did not move: the genuine packets read as before.
    read(rtx(13, 106));
    read(rtx(14, 106));
    expect(fb.counts).toMatchObject({ rtxRecovered: 2, rtxSkippedUnverified: 1, rtxAuthFailures: 2 });
  });
});
