// RTX (RFC 4588) as a virtual point reads it: the SFU resends a NACKed video packet on
// the consumer's RTX stream (its own SSRC, sequence numbers and SRTP rollover counter, the
// RTX payload type), its payload the original sequence number (OSN, 2 bytes) followed by
// the original payload. The receiver decrypts the RTX packet (SRTP like the rest) and
// unwraps it here into the packet it stands for, then counts that packet as if it had
// arrived on the media SSRC. Before that, the OSN is read without the full decrypt, and a
// retransmission of a packet the point does not lack is skipped (rtxNotWanted). Pure:
// unit-tested.
import { extendSeq, type SrtpStreamReader } from './srtp-index';
import type { StreamStats } from './stream-stats';

/**
 * How far ahead of the highest authenticated RTX packet one may be and still be skipped
 * unverified: skipped packets do not move the RTX stream's index count, and a quarter of
 * the sequence space keeps that count well inside the half that RFC 3711's index
 * estimate needs.
 */
export const RTX_PEEK_SPAN = 0x4000;

/** One RTX stream of a receiver: the media stream it repairs and its own SRTP index count. */
export interface RtxStream {
  mediaSsrc: number;
  /** The media codec's payload type (the RTX codec's apt). */
  payloadType: number;
  /** Highest extended sequence number of the RTX stream itself (-1 before its first packet). */
  maxExt: number;
}

/**
 * The original packet of a decrypted RTX packet: the RTX header (CSRCs and header
 * extension kept, padding dropped) with the original sequence number, the media SSRC and
 * payload type, then the original payload. Undefined when the packet carries no OSN
 * (padding only, or truncated).
 */
export function unwrapRtx(clear: Buffer, mediaSsrc: number, payloadType: number): Buffer | undefined {
  if (clear.length < 12 || clear[0]! >> 6 !== 2) return undefined;
  let off = 12 + (clear[0]! & 0x0f) * 4;
  if (clear[0]! & 0x10) {
    if (clear.length < off + 4) return undefined;
    off += 4 + clear.readUInt16BE(off + 2) * 4;
  }
  let end = clear.length;
  if (clear[0]! & 0x20) end -= clear[clear.length - 1]!;
  if (end - off < 2) return undefined;
  const out = Buffer.allocUnsafe(end - 2);
  clear.copy(out, 0, 0, off);
  clear.copy(out, off, off + 2, end);
  out[0] = clear[0]! & ~0x20; // no padding any more
  out[1] = (clear[1]! & 0x80) | (payloadType & 0x7f);
  out.writeUInt16BE(clear.readUInt16BE(off), 2);
  out.writeUInt32BE(mediaSsrc >>> 0, 8);
  return out;
}

/**
 * The RTX packet `pkt` (`ext` its extended sequence number on the RTX stream) repairs
 * nothing: its OSN, read unverified (SrtpStreamReader.peek), names a packet of `media`
 * that `lacks` says the point does not lack (received, ahead of the highest, or older
 * than the feedback tracks), so decrypting it would count nothing. Read only where that
 * reading is sound: the RTX stream's ROC known (one of its packets authenticated), the
 * packet within RTX_PEEK_SPAN of the highest authenticated one (past it, the packet is
 * decrypted and moves the index count), and no padding (its length is in the encrypted
 * last byte, so a padding-only packet's first bytes are no OSN). A forged or corrupted
 * packet reads a garbage OSN: skipped if it names nothing wanted, else decrypted, where
 * it fails.
 */
export function rtxNotWanted(
  pkt: Buffer,
  x: RtxStream,
  reader: Pick<SrtpStreamReader, 'peek'>,
  ext: number,
  media: StreamStats,
  lacks: { lacks(s: StreamStats, ext: number): boolean },
): boolean {
  if (pkt[0]! & 0x20 || x.maxExt < 0 || ext - x.maxExt >= RTX_PEEK_SPAN || media.firstSeq < 0) return false;
  const osn = reader.peek(pkt, ext, 2);
  return osn !== undefined && !lacks.lacks(media, extendSeq(media.maxSeq, osn.readUInt16BE(0)));
}
