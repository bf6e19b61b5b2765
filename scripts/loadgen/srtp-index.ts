// SRTP packet index for the generator's decrypt checks, kept here rather than in werift's
// SRTP context. werift's context guesses the rollover counter (ROC) from the previous
// packet *it decrypted*, with a ±100 window around the wrap, and forgets nothing it failed
// on: fed one packet in K (the sampled checks) across a loss burst at the wrap, or a first
// packet whose sender ROC is already 1, its guess stays wrong for good. The receiver reads
// every packet's sequence number anyway (loss counting), so it extends each one here
// (RFC 3711 §3.3.1: the index closest to the highest seen) and hands werift's cipher the
// ROC explicitly. Pure: unit-tested against a node:crypto AES-GCM reference (RFC 7714).
// It also reads the first bytes of a packet's payload without the full decrypt (peek):
// RFC 7714's AES-GCM encrypts the payload in counter mode, so the first block is the
// payload XOR one AES block of the key stream, and a packet can be read cheaply and
// unverified when reading it wrong cannot change what is counted (rtx.ts: the original
// sequence number of a retransmission).
import { createCipheriv, type Cipher } from 'node:crypto';
import type { SrtpSession } from 'werift';

const SEQ_MOD = 0x10000;
const HALF = 0x8000;

/**
 * The extended sequence number (ROC * 2^16 + seq) of `seq`, given the highest extended
 * sequence number seen so far (`maxExt`, or undefined for a stream's first packet): the
 * candidate in the previous, current or next cycle closest to `maxExt`. A reordered
 * packet from before the first one may come out negative (its ROC would be -1).
 */
export function extendSeq(maxExt: number | undefined, seq: number): number {
  if (maxExt === undefined) return seq;
  const cycle = Math.floor(maxExt / SEQ_MOD) * SEQ_MOD;
  let ext = cycle + seq;
  if (ext - maxExt > HALF) ext -= SEQ_MOD;
  else if (maxExt - ext > HALF) ext += SEQ_MOD;
  return ext;
}

/** The ROC of an extended sequence number. */
export function rocOf(ext: number): number {
  return Math.floor(ext / SEQ_MOD);
}

type RemoteCipher = SrtpSession['remoteContext']['cipher'];

/**
 * Decrypts one SSRC's packets with an explicit ROC. The receiver joins a stream that may
 * have wrapped already (packets sent before it took the socket over are never seen), so
 * until the first packet authenticates, ROC + 1 and + 2 are tried too; the offset that
 * works is kept. After that a failure is a failure: no guessing that could hide a bug.
 */
export class SrtpStreamReader {
  readonly #cipher: RemoteCipher;
  /** Sender ROC minus our ROC (our count starts at 0 on the first packet we saw). */
  #rocOffset = 0;
  #authenticated = false;
  /** AES-128 on single blocks, the session key's: the key stream of a peek. */
  #block: Cipher | undefined;

  constructor(cipher: RemoteCipher) {
    this.#cipher = cipher;
  }

  get rocOffset(): number {
    return this.#rocOffset;
  }

  /**
   * The first `n` bytes (at most 16) of the payload of SRTP packet `pkt` (`ext` from
   * extendSeq) in clear, without checking its tag. AES-GCM (RFC 7714 §8.1, NIST SP 800-38D)
   * encrypts the payload with AES-CTR from J0 + 1, where J0 = IV || 0x00000001: the first
   * 16 bytes are the cipher text XOR AES_K(IV || 0x00000002). Undefined before a packet of
   * the stream authenticated (the ROC is not known yet), for a profile other than AES-GCM,
   * or when the payload is shorter than `n`. Nothing is verified: a forged or corrupted
   * packet reads as garbage, so the caller may only skip on what it reads, never count.
   */
  peek(pkt: Buffer, ext: number, n = 16): Buffer | undefined {
    const cipher = this.#cipher;
    if (!this.#authenticated || n > 16 || !('aeadAuthTagLen' in cipher)) return undefined;
    const roc = rocOf(ext) + this.#rocOffset;
    const off = payloadOffset(pkt);
    if (roc < 0 || off < 0 || off + n > pkt.length - GCM_TAG) return undefined;
    const counter = Buffer.alloc(16);
    counter.writeUInt32BE(pkt.readUInt32BE(8), 2);
    counter.writeUInt32BE(roc >>> 0, 6);
    counter.writeUInt16BE(pkt.readUInt16BE(2), 10);
    const salt = cipher.srtpSessionSalt;
    for (let i = 0; i < 12; i++) counter[i] = counter[i]! ^ salt[i]!;
    counter.writeUInt32BE(2, 12);
    if (!this.#block) {
      this.#block = createCipheriv('aes-128-ecb', cipher.srtpSessionKey, null);
      this.#block.setAutoPadding(false);
    }
    const stream = this.#block.update(counter);
    const out = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) out[i] = pkt[off + i]! ^ stream[i]!;
    return out;
  }

  /** The clear packet, or undefined when it does not authenticate. `ext` from extendSeq. */
  decrypt(pkt: Buffer, ext: number): Buffer | undefined {
    const roc = rocOf(ext) + this.#rocOffset;
    if (roc < 0) return undefined;
    const clear = tryDecrypt(this.#cipher, pkt, roc);
    if (clear || this.#authenticated) {
      if (clear) this.#authenticated = true;
      return clear;
    }
    for (const extra of [1, 2]) {
      const probed = tryDecrypt(this.#cipher, pkt, roc + extra);
      if (probed) {
        this.#rocOffset += extra;
        this.#authenticated = true;
        return probed;
      }
    }
    return undefined;
  }
}

const GCM_TAG = 16;

/** Where an RTP packet's payload starts (after CSRCs and header extension), or -1 if truncated. */
function payloadOffset(pkt: Buffer): number {
  if (pkt.length < 12) return -1;
  let off = 12 + (pkt[0]! & 0x0f) * 4;
  if (pkt[0]! & 0x10) {
    if (pkt.length < off + 4) return -1;
    off += 4 + pkt.readUInt16BE(off + 2) * 4;
  }
  return off <= pkt.length ? off : -1;
}

export function tryDecrypt(cipher: RemoteCipher, pkt: Buffer, roc: number): Buffer | undefined {
  try {
    return cipher.decryptRtp(pkt, roc >>> 0)[0];
  } catch {
    return undefined;
  }
}
