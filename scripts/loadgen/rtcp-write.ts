// The RTCP a receiving browser sends, written by hand for a cheap per-point path: receiver
// reports (RFC 3550 §6.4.2), generic NACK and PLI (RFC 4585 §6.2.1, §6.3.1) and
// transport-wide congestion control feedback (draft-holmer-rmcat-transport-wide-cc-
// extensions-01 §3.1). Pure: unit-tested against werift's parsers.

export interface ReportBlock {
  ssrc: number;
  /** Lost since the last report, in 1/256. */
  fractionLost: number;
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** In RTP timestamp units. */
  jitter: number;
  /** The middle 32 bits of the last SR's NTP time, 0 if none. */
  lsr: number;
  /** Since that SR, in 1/65536 s. */
  dlsr: number;
}

function header(b: Buffer, countOrFmt: number, pt: number, padded = false): void {
  b[0] = 0x80 | (padded ? 0x20 : 0) | (countOrFmt & 0x1f);
  b[1] = pt;
  b.writeUInt16BE(b.length / 4 - 1, 2);
}

/** A receiver report with up to 31 blocks. */
export function receiverReport(senderSsrc: number, blocks: ReportBlock[]): Buffer {
  const n = Math.min(31, blocks.length);
  const b = Buffer.alloc(8 + 24 * n);
  header(b, n, 201);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  for (let i = 0; i < n; i++) {
    const k = blocks[i]!;
    const o = 8 + 24 * i;
    b.writeUInt32BE(k.ssrc >>> 0, o);
    b[o + 4] = Math.max(0, Math.min(255, Math.floor(k.fractionLost)));
    b.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, Math.round(k.cumulativeLost))), o + 5, 3);
    b.writeUInt32BE(k.extendedHighestSeq >>> 0, o + 8);
    b.writeUInt32BE(Math.max(0, Math.round(k.jitter)) >>> 0, o + 12);
    b.writeUInt32BE(k.lsr >>> 0, o + 16);
    b.writeUInt32BE(Math.max(0, Math.round(k.dlsr)) >>> 0, o + 20);
  }
  return b;
}

/** A generic NACK for these sequence numbers (16-bit), packed as PID + bitmask pairs. */
export function genericNack(senderSsrc: number, mediaSsrc: number, seqs: number[]): Buffer {
  const sorted = [...new Set(seqs.map((s) => s & 0xffff))].sort((a, b) => a - b);
  const pairs: [number, number][] = [];
  for (const s of sorted) {
    const last = pairs[pairs.length - 1];
    const d = last ? (s - last[0]) & 0xffff : 0;
    if (last && d >= 1 && d <= 16) last[1] |= 1 << (d - 1);
    else pairs.push([s, 0]);
  }
  const b = Buffer.alloc(12 + 4 * pairs.length);
  header(b, 1, 205);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  pairs.forEach(([pid, blp], i) => {
    b.writeUInt16BE(pid, 12 + 4 * i);
    b.writeUInt16BE(blp, 14 + 4 * i);
  });
  return b;
}

export function pictureLossIndication(senderSsrc: number, mediaSsrc: number): Buffer {
  const b = Buffer.alloc(12);
  header(b, 1, 206);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  return b;
}

/**
 * Transport-wide feedback for the packets with transport sequence numbers
 * `base .. base + arrivals.length - 1`: `arrivals[i]` is packet base + i's arrival time in
 * ms, or NaN when it did not arrive (the first must have arrived). Two-bit status vector
 * chunks (7 packets each), receive deltas in 250 µs.
 */
export function transportFeedback(
  senderSsrc: number,
  mediaSsrc: number,
  base: number,
  arrivals: ArrayLike<number>,
  feedbackCount: number,
): Buffer {
  const count = Math.min(arrivals.length, 0xffff);
  const refTime = Math.floor(arrivals[0]! / 64);
  const symbols = new Uint8Array(count);
  const deltas: number[] = [];
  let prevUs = refTime * 64_000;
  for (let i = 0; i < count; i++) {
    const t = arrivals[i]!;
    if (!Number.isFinite(t)) continue;
    const us = Math.round(t * 1000);
    const ticks = Math.round((us - prevUs) / 250);
    const d = Math.max(-0x8000, Math.min(0x7fff, ticks));
    symbols[i] = d >= 0 && d <= 255 ? 1 : 2;
    deltas.push(d);
    prevUs += d * 250;
  }
  const chunks = Math.ceil(count / 7);
  const deltaBytes = deltas.reduce((a, d) => a + (d >= 0 && d <= 255 ? 1 : 2), 0);
  const body = 20 + 2 * chunks + deltaBytes;
  const pad = (4 - (body % 4)) % 4;
  const b = Buffer.alloc(body + pad);
  header(b, 15, 205, pad > 0);
  b.writeUInt32BE(senderSsrc >>> 0, 4);
  b.writeUInt32BE(mediaSsrc >>> 0, 8);
  b.writeUInt16BE(base & 0xffff, 12);
  b.writeUInt16BE(count, 14);
  b.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, refTime)), 16, 3);
  b[19] = feedbackCount & 0xff;
  let o = 20;
  for (let c = 0; c < chunks; c++) {
    let chunk = 0xc000; // status vector, two-bit symbols
    for (let j = 0; j < 7; j++) chunk |= (symbols[c * 7 + j] ?? 0) << (12 - 2 * j);
    b.writeUInt16BE(chunk, o);
    o += 2;
  }
  for (const d of deltas) {
    if (d >= 0 && d <= 255) b[o++] = d;
    else {
      b.writeInt16BE(d, o);
      o += 2;
    }
  }
  if (pad) b[b.length - 1] = pad;
  return b;
}
