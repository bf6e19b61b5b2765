// SRTP packet index for the generator's decrypt checks, kept here rather than in werift's
// SRTP context. werift's context guesses the rollover counter (ROC) from the previous
// packet *it decrypted*, with a ±100 window around the wrap, and forgets nothing it failed
// on: fed one packet in K (the sampled checks) across a loss burst at the wrap, or a first
// packet whose sender ROC is already 1, its guess stays wrong for good. The receiver reads
// every packet's sequence number anyway (loss counting), so it extends each one here
// (RFC 3711 §3.3.1: the index closest to the highest seen) and hands werift's cipher the
// ROC explicitly. Pure: unit-tested against a node:crypto AES-GCM reference (RFC 7714).
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

  constructor(cipher: RemoteCipher) {
    this.#cipher = cipher;
  }

  get rocOffset(): number {
    return this.#rocOffset;
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

export function tryDecrypt(cipher: RemoteCipher, pkt: Buffer, roc: number): Buffer | undefined {
  try {
    return cipher.decryptRtp(pkt, roc >>> 0)[0];
  } catch {
    return undefined;
  }
}
