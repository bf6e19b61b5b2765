// A reference SRTP sender written from the RFCs with node:crypto (RFC 3711 §4.3 key
// derivation, RFC 7714 §8.1 AES-128-GCM IV), independent of werift, for checking the load
// generator's decrypts: the caller keeps each SSRC's rollover counter (ROC) the way a
// sender does, +1 at every wrap, whatever the receiver saw.
import { createCipheriv, randomBytes } from 'node:crypto';
import { ProtectionProfileAeadAes128Gcm, SrtpSession } from 'werift';

export class SrtpReferenceSender {
  readonly #sessionKey: Buffer;
  readonly #sessionSalt: Buffer;

  /** Random keys unless given (a test whose path depends on the ciphertext's bytes fixes them). */
  constructor(
    readonly masterKey: Buffer = randomBytes(16),
    readonly masterSalt: Buffer = randomBytes(12),
  ) {
    this.#sessionKey = this.#derive(0x00, 16);
    this.#sessionSalt = this.#derive(0x02, 12);
  }

  /** RFC 3711 §4.3.1 with kdr 0: AES-CM over (label || index/kdr) XOR salt, salt padded to 14 octets. */
  #derive(label: number, length: number): Buffer {
    const x = Buffer.concat([this.masterSalt, Buffer.alloc(2)]);
    x[7] = x[7]! ^ label;
    const iv = Buffer.concat([x, Buffer.alloc(2)]);
    return createCipheriv('aes-128-ctr', this.masterKey, iv).update(Buffer.alloc(length));
  }

  /** One SRTP packet as mediasoup's libsrtp sends it: `header` (SSRC and sequence read from it) as AAD, tag appended. */
  protect(header: Buffer, payload: Buffer, roc: number): Buffer {
    const iv = Buffer.alloc(12);
    iv.writeUInt32BE(header.readUInt32BE(8), 2);
    iv.writeUInt32BE(roc >>> 0, 6);
    iv.writeUInt16BE(header.readUInt16BE(2), 10);
    for (let i = 0; i < 12; i++) iv[i] = iv[i]! ^ this.#sessionSalt[i]!;
    const c = createCipheriv('aes-128-gcm', this.#sessionKey, iv);
    c.setAAD(header);
    const enc = Buffer.concat([c.update(payload), c.final()]);
    return Buffer.concat([header, enc, c.getAuthTag()]);
  }

  /** A werift session that receives from this sender (its remote keys are ours). */
  receiverSession(): SrtpSession {
    return new SrtpSession({
      profile: ProtectionProfileAeadAes128Gcm,
      keys: {
        localMasterKey: randomBytes(16),
        localMasterSalt: randomBytes(12),
        remoteMasterKey: this.masterKey,
        remoteMasterSalt: this.masterSalt,
      },
    });
  }
}

/** A plain 12-byte RTP header (version 2, no marker): what `protect` is given. */
export function rtpHeader(ssrc: number, seq: number, ts: number, payloadType = 101): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = payloadType;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc, 8);
  return h;
}
