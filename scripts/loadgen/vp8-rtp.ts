// VP8 in IVF files and in RTP, as the simulcast hall sends it: reading IVF frames
// (pre-encoded by ffmpeg), packetizing a frame into RTP with the payload descriptor a
// browser writes (RFC 7741: X=1, S=1 on the first packet, a 15-bit picture id, TL0PICIDX
// and TID 0 with Y=1, one temporal layer; the SFU rewrites these when it switches layers) and
// reading the RTCP feedback the SFU sends back (PLI, FIR, NACK). Pure: unit-tested.

export interface Vp8Frame {
  data: Buffer;
  /** A key frame (the VP8 frame tag's P bit is 0): decoding can start here. */
  key: boolean;
}

export interface IvfClip {
  width: number;
  height: number;
  frames: Vp8Frame[];
}

/** The frames of an IVF file (32-byte header, then 12-byte frame headers). */
export function parseIvf(buf: Buffer): IvfClip {
  if (buf.length < 32 || buf.toString('latin1', 0, 4) !== 'DKIF') throw new Error('not an IVF file');
  if (buf.toString('latin1', 8, 12) !== 'VP80') throw new Error(`not VP8: ${buf.toString('latin1', 8, 12)}`);
  const headerLen = buf.readUInt16LE(6);
  const frames: Vp8Frame[] = [];
  let off = headerLen;
  while (off + 12 <= buf.length) {
    const size = buf.readUInt32LE(off);
    off += 12;
    if (off + size > buf.length) break;
    const data = buf.subarray(off, off + size);
    off += size;
    if (size > 0) frames.push({ data, key: (data[0]! & 0x01) === 0 });
  }
  if (!frames.length || !frames[0]!.key) throw new Error('the IVF file does not start with a key frame');
  return { width: buf.readUInt16LE(12), height: buf.readUInt16LE(14), frames };
}

export interface RtpStreamState {
  ssrc: number;
  payloadType: number;
  /** Next sequence number (16 bits). */
  seq: number;
  /** Next picture id (15 bits). */
  pictureId: number;
  /** Next TL0PICIDX (8 bits): every frame is on temporal layer 0. */
  tl0PicIdx: number;
}

const DESCRIPTOR = 6;

/**
 * One VP8 frame as RTP packets of at most `maxPacket` bytes; advances `st.seq` and
 * `st.pictureId`. The marker bit is set on the frame's last packet.
 */
export function packetizeVp8(frame: Buffer, ts: number, st: RtpStreamState, maxPacket = 1200): Buffer[] {
  const room = maxPacket - 12 - DESCRIPTOR;
  const n = Math.max(1, Math.ceil(frame.length / room));
  // Equal shares, as libwebrtc splits a frame (no tiny last packet).
  const share = Math.ceil(frame.length / n);
  const out: Buffer[] = [];
  const pid = st.pictureId & 0x7fff;
  for (let i = 0; i < n; i++) {
    const part = frame.subarray(i * share, Math.min(frame.length, (i + 1) * share));
    const pkt = Buffer.allocUnsafe(12 + DESCRIPTOR + part.length);
    pkt[0] = 0x80;
    pkt[1] = (i === n - 1 ? 0x80 : 0) | (st.payloadType & 0x7f);
    pkt.writeUInt16BE(st.seq, 2);
    pkt.writeUInt32BE(ts >>> 0, 4);
    pkt.writeUInt32BE(st.ssrc >>> 0, 8);
    pkt[12] = i === 0 ? 0x90 : 0x80; // X=1, S on the first packet, partition 0
    pkt[13] = 0xe0; // I, L, T: picture id, TL0PICIDX, TID present
    pkt[14] = 0x80 | (pid >> 8); // M: 15-bit picture id
    pkt[15] = pid & 0xff;
    pkt[16] = st.tl0PicIdx & 0xff;
    pkt[17] = 0x20; // TID 0, Y=1
    part.copy(pkt, 12 + DESCRIPTOR);
    out.push(pkt);
    st.seq = (st.seq + 1) & 0xffff;
  }
  st.pictureId = (pid + 1) & 0x7fff;
  st.tl0PicIdx = (st.tl0PicIdx + 1) & 0xff;
  return out;
}

export type Feedback =
  { type: 'pli'; ssrc: number } | { type: 'fir'; ssrc: number } | { type: 'nack'; ssrc: number; seqs: number[] };

/** The key-frame requests and NACKs in a (compound) RTCP packet; anything else is skipped. */
export function readFeedback(buf: Buffer): Feedback[] {
  const out: Feedback[] = [];
  let off = 0;
  while (off + 4 <= buf.length) {
    if (buf[off]! >> 6 !== 2) break;
    const fmt = buf[off]! & 0x1f;
    const pt = buf[off + 1]!;
    const len = (buf.readUInt16BE(off + 2) + 1) * 4;
    if (off + len > buf.length) break;
    if (pt === 206 && fmt === 1 && len >= 12) out.push({ type: 'pli', ssrc: buf.readUInt32BE(off + 8) });
    else if (pt === 206 && fmt === 4)
      for (let i = off + 12; i + 8 <= off + len; i += 8) out.push({ type: 'fir', ssrc: buf.readUInt32BE(i) });
    else if (pt === 205 && fmt === 1 && len >= 16) {
      const seqs: number[] = [];
      for (let i = off + 12; i + 4 <= off + len; i += 4) {
        const pid = buf.readUInt16BE(i);
        const blp = buf.readUInt16BE(i + 2);
        seqs.push(pid);
        for (let b = 0; b < 16; b++) if (blp & (1 << b)) seqs.push((pid + b + 1) & 0xffff);
      }
      out.push({ type: 'nack', ssrc: buf.readUInt32BE(off + 8), seqs });
    }
    off += len;
  }
  return out;
}

/** NTP time (RFC 3550) of a wall-clock time in ms: [seconds, fraction]. */
export function ntpOf(ms: number): [number, number] {
  const secs = ms / 1000 + 2208988800;
  const whole = Math.floor(secs);
  return [whole >>> 0, Math.floor((secs - whole) * 2 ** 32) >>> 0];
}

/** A sender report (RFC 3550 §6.4.1) without report blocks. */
export function senderReport(ssrc: number, nowMs: number, rtpTs: number, packets: number, octets: number): Buffer {
  const b = Buffer.alloc(28);
  b[0] = 0x80;
  b[1] = 200;
  b.writeUInt16BE(6, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  const [s, f] = ntpOf(nowMs);
  b.writeUInt32BE(s, 8);
  b.writeUInt32BE(f, 12);
  b.writeUInt32BE(rtpTs >>> 0, 16);
  b.writeUInt32BE(packets >>> 0, 20);
  b.writeUInt32BE(octets >>> 0, 24);
  return b;
}
