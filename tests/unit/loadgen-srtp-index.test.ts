// The load generator's SRTP decrypt checks across the 16-bit sequence wrap, against a
// reference sender written from the RFCs with node:crypto (../helpers/srtp-reference.ts),
// independent of werift, that keeps the rollover counter (ROC) the way a sender does: +1 at
// every wrap, whatever the receiver saw.
import { SrtpReferenceSender, rtpHeader } from '../helpers/srtp-reference';
import { SrtpStreamReader, extendSeq, rocOf } from '../../scripts/loadgen/srtp-index';

const sender = new SrtpReferenceSender();
const SSRC = 0x1234abcd;

/** One SRTP packet as mediasoup's libsrtp sends it (RFC 7714: header as AAD, tag appended). */
function protect(seq: number, roc: number, payload = Buffer.from('vp8 payload, not decoded')): Buffer {
  return sender.protect(rtpHeader(SSRC, seq, seq * 3000), payload, roc);
}

/** The sender's packets from `start` (ROC `roc0`), `n` of them, with their ROC. */
function send(start: number, n: number, roc0 = 0): { seq: number; pkt: Buffer }[] {
  const out: { seq: number; pkt: Buffer }[] = [];
  for (let i = 0; i < n; i++) {
    const index = roc0 * 0x10000 + start + i;
    const seq = index % 0x10000;
    out.push({ seq, pkt: protect(seq, Math.floor(index / 0x10000)) });
  }
  return out;
}

/** What the receiver did before: werift's context guesses the ROC from what it decrypted. */
function weriftContext(packets: { pkt: Buffer }[]): { ok: number; failed: number } {
  const s = sender.receiverSession();
  let ok = 0;
  let failed = 0;
  for (const { pkt } of packets) {
    try {
      s.decrypt(pkt);
      ok++;
    } catch {
      failed++;
    }
  }
  return { ok, failed };
}

/** What the receiver does now: every packet's sequence extended, the sampled ones decrypted. */
function ownIndex(
  all: { seq: number; pkt: Buffer }[],
  sampled: (i: number) => boolean,
): { ok: number; failed: number } {
  const reader = new SrtpStreamReader(sender.receiverSession().remoteContext.cipher);
  let max: number | undefined;
  let ok = 0;
  let failed = 0;
  all.forEach(({ seq, pkt }, i) => {
    const ext = extendSeq(max, seq);
    if (max === undefined || ext > max) max = ext;
    if (!sampled(i)) return;
    if (reader.decrypt(pkt, ext)) ok++;
    else failed++;
  });
  return { ok, failed };
}

test('the reference sender agrees with werift on a stream that does not wrap', () => {
  expect(weriftContext(send(1, 50))).toEqual({ ok: 50, failed: 0 });
});

describe('extendSeq: RFC 3711 §3.3.1 index estimation', () => {
  test('forward across the wrap, reordered back across it, and a first packet above 32768', () => {
    expect(extendSeq(undefined, 65530)).toBe(65530);
    expect(extendSeq(65535, 0)).toBe(65536);
    expect(extendSeq(65536 + 5, 65534)).toBe(65534);
    expect(extendSeq(40_000, 40_001)).toBe(40_001);
    expect(extendSeq(40_000, 100)).toBe(65536 + 100); // 25,636 ahead, not 39,900 behind
    expect(extendSeq(5, 65535)).toBe(-1); // before the first packet: ROC -1
    expect(rocOf(65536 * 3 + 7)).toBe(3);
  });
});

describe('decrypt checks across the sequence wrap', () => {
  test('a loss burst at the wrap while 1 packet in 10 is checked: werift never recovers, the own index does', () => {
    // 600 packets from 65,300: the wrap in the middle, 300 packets lost around it.
    const all = send(65_300, 600).filter((_, i) => i < 150 || i >= 450);
    const sampled = all.filter((_, i) => i % 10 === 0);
    const before = weriftContext(sampled);
    // Every check after the wrap fails: werift kept ROC 0 (it saw 65,440 then 214).
    const afterWrap = sampled.filter((p) => p.seq < 1000).length;
    expect(afterWrap).toBeGreaterThan(10);
    expect(before.failed).toBe(afterWrap);
    expect(ownIndex(all, (i) => i % 10 === 0)).toEqual({ ok: sampled.length, failed: 0 });
  });

  test('a receiver whose first packet is past a wrap it did not see (sender ROC 1)', () => {
    // The sender wrapped before the receiver's socket read anything: first seen seq 30.
    const all = send(30, 200, 1);
    expect(weriftContext(all)).toEqual({ ok: 0, failed: 200 });
    expect(ownIndex(all, () => true)).toEqual({ ok: 200, failed: 0 });
  });

  test('a first packet near 65535, every packet checked, then the wrap', () => {
    const all = send(65_500, 300);
    expect(ownIndex(all, () => true)).toEqual({ ok: 300, failed: 0 });
    expect(ownIndex(all, (i) => i % 10 === 0).failed).toBe(0);
  });

  test('a first packet above 32768 keeps its ROC through the next wrap', () => {
    const all = send(40_000, 26_000);
    expect(ownIndex(all, (i) => i % 97 === 0).failed).toBe(0);
  });

  test('a packet that does not authenticate is not rescued by guessing once the stream has authenticated', () => {
    const reader = new SrtpStreamReader(sender.receiverSession().remoteContext.cipher);
    expect(reader.decrypt(protect(10, 0), 10)).toBeDefined();
    // Protected with ROC 1 but claimed at index 11 (ROC 0): a real failure.
    expect(reader.decrypt(protect(11, 1), 11)).toBeUndefined();
    const tampered = protect(12, 0);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 1;
    expect(reader.decrypt(tampered, 12)).toBeUndefined();
  });
});
