// ICE over TCP to a mediasoup WebRtcServer, as a browser behind a network that blocks UDP
// reaches it: a TCP connection to the transport's passive TCP candidate, every packet
// framed with a 2-byte length (RFC 4571), a STUN binding request as a controlling agent
// nominating the pair sends it (RFC 8445: USERNAME, PRIORITY, USE-CANDIDATE,
// ICE-CONTROLLING, MESSAGE-INTEGRITY, FINGERPRINT), then DTLS, SRTP and SRTCP over the
// same stream. The link has the shape werift's DTLS client is given for an ICE link
// (send, onData), so ./werift-link.ts runs the handshake over it unchanged. A binding
// request every few seconds keeps the pair's consent, as a browser's do; when none has
// been answered for 30 s the consent is lost (RFC 7675) and the link closes, as a
// browser's ICE then fails.
import { createHmac, randomBytes } from 'node:crypto';
import net from 'node:net';
import { crc32 } from 'node:zlib';
import { withTimeout, type IceRemote, type PacketLink } from './werift-link';

const MAGIC = 0x2112a442;
const BINDING_REQUEST = 0x0001;
const BINDING_SUCCESS = 0x0101;
const BINDING_ERROR = 0x0111;
/** A browser's host candidate priority over TCP (type preference 126 would be UDP's). */
const PRIORITY = 1518280447;
/** How often a consent check is sent, and how long without an answer loses it (RFC 7675). */
const CONSENT = { everyMs: 5000, timeoutMs: 30_000 };

function attr(type: number, value: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt16BE(type, 0);
  head.writeUInt16BE(value.length, 2);
  const pad = Buffer.alloc((4 - (value.length % 4)) % 4);
  return Buffer.concat([head, value, pad]);
}

/**
 * A STUN binding request as a controlling ICE agent sends it to `remote` (its ufrag and
 * password): with USE-CANDIDATE unless `nominate` is false (a consent check).
 */
export function bindingRequest(
  remote: { usernameFragment: string; password: string },
  localUfrag: string,
  opts: { nominate?: boolean; transactionId?: Buffer; tieBreaker?: Buffer } = {},
): Buffer {
  const header = Buffer.alloc(20);
  header.writeUInt16BE(BINDING_REQUEST, 0);
  header.writeUInt32BE(MAGIC, 4);
  (opts.transactionId ?? randomBytes(12)).copy(header, 8);
  const priority = Buffer.alloc(4);
  priority.writeUInt32BE(PRIORITY, 0);
  let body = Buffer.concat([
    attr(0x0006, Buffer.from(`${remote.usernameFragment}:${localUfrag}`)), // USERNAME
    attr(0x0024, priority), // PRIORITY
    ...(opts.nominate === false ? [] : [attr(0x0025, Buffer.alloc(0))]), // USE-CANDIDATE
    attr(0x802a, opts.tieBreaker ?? randomBytes(8)), // ICE-CONTROLLING
  ]);
  const withLength = (extra: number) => {
    const h = Buffer.from(header);
    h.writeUInt16BE(body.length + extra, 2);
    return h;
  };
  const integrity = createHmac('sha1', remote.password)
    .update(Buffer.concat([withLength(24), body]))
    .digest();
  body = Buffer.concat([body, attr(0x0008, integrity)]); // MESSAGE-INTEGRITY
  const fp = Buffer.alloc(4);
  fp.writeUInt32BE((crc32(Buffer.concat([withLength(8), body])) ^ 0x5354554e) >>> 0, 0);
  body = Buffer.concat([body, attr(0x8028, fp)]); // FINGERPRINT
  return Buffer.concat([withLength(0), body]);
}

/** RFC 4571 framing: a 2-byte length before each packet. */
export function framed(b: Buffer): Buffer {
  if (b.length > 0xffff) throw new Error(`a ${b.length}-byte packet does not fit an RFC 4571 frame`);
  return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b]);
}

/** Cuts a TCP byte stream back into its RFC 4571 frames, however the reads split them. */
export class Deframer {
  #pending: Buffer = Buffer.alloc(0);
  readonly #onPacket: (pkt: Buffer) => void;

  constructor(onPacket: (pkt: Buffer) => void) {
    this.#onPacket = onPacket;
  }

  push(chunk: Buffer): void {
    let buf = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    while (buf.length >= 2) {
      const n = buf.readUInt16BE(0);
      if (buf.length < 2 + n) break;
      // Copied: a packet held for later must not pin the whole chunk.
      this.#onPacket(Buffer.from(buf.subarray(2, 2 + n)));
      buf = buf.subarray(2 + n);
    }
    this.#pending = buf.length ? Buffer.from(buf) : Buffer.alloc(0);
  }
}

/** A STUN message's class/method and transaction id, or undefined when it is not STUN. */
function stunOf(pkt: Buffer): { type: number; id: string } | undefined {
  if (pkt.length < 20 || pkt[0]! > 3 || pkt.readUInt32BE(4) !== MAGIC) return undefined;
  return { type: pkt.readUInt16BE(0), id: pkt.subarray(8, 20).toString('hex') };
}

/** An ICE link over one TCP connection (see the file's head). */
export class TcpIceLink implements PacketLink {
  readonly socket: net.Socket;
  readonly localUfrag = randomBytes(4).toString('hex');
  readonly #tieBreaker = randomBytes(8);
  readonly #remote: { usernameFragment: string; password: string };
  readonly #waiting = new Map<string, { resolve: () => void; reject: (e: Error) => void }>();
  readonly #subscribers = new Set<(pkt: Buffer) => void>();
  readonly #inbox: Buffer[] = [];
  #consent: NodeJS.Timeout | undefined;
  readonly #consentTiming: { everyMs: number; timeoutMs: number };
  /** When a binding request was last answered (performance.now()). */
  #consentAt = 0;
  #closed = false;
  /** No consent check answered for the timeout: the link closed itself. */
  consentLost = false;
  /** Called once when the consent is lost (the link is closed by then). */
  onConsentLost: () => void = () => undefined;
  /** Binding requests answered (the nomination and each consent check). */
  answered = 0;
  /**
   * Every packet that is not a STUN answer of ours; by default to onData's subscribers.
   * A receiver takes media here and hands the rest (DTLS) to `deliver`.
   */
  onPacket: (pkt: Buffer) => void = (pkt) => this.deliver(pkt);
  readonly onData = {
    subscribe: (fn: (pkt: Buffer) => void) => {
      this.#subscribers.add(fn);
      return { unSubscribe: () => this.#subscribers.delete(fn) };
    },
  };

  constructor(
    remote: { usernameFragment: string; password: string },
    address: { ip: string; port: number },
    consent: { everyMs: number; timeoutMs: number } = CONSENT,
  ) {
    this.#remote = remote;
    this.#consentTiming = consent;
    this.socket = net.connect({ host: address.ip, port: address.port, noDelay: true });
    const deframer = new Deframer((pkt) => this.#onFrame(pkt));
    this.socket.on('data', (chunk: Buffer) => deframer.push(chunk));
    this.socket.on('error', () => undefined);
    this.socket.on('close', () => this.#fail(new Error('ICE-TCP connection closed')));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Hands a packet to onData's subscribers (werift's DTLS client), each in a callback of
   * its own, as UDP datagrams reach it: one TCP read often holds a whole DTLS flight, and
   * werift's handshake, whose steps are asynchronous, mixes its state up (a second
   * flight with other keys, which the worker takes for an attack and closes DTLS on)
   * when the records of a flight come in one synchronous run.
   */
  deliver(pkt: Buffer): void {
    this.#inbox.push(pkt);
    if (this.#inbox.length === 1) setImmediate(() => this.#drain());
  }

  #drain(): void {
    const pkt = this.#inbox.shift();
    if (!pkt) return;
    if (this.#inbox.length) setImmediate(() => this.#drain());
    if (!this.#closed) for (const fn of this.#subscribers) fn(pkt);
  }

  send(data: Buffer): Promise<void> {
    if (this.#closed || this.socket.destroyed) return Promise.resolve();
    this.socket.write(framed(data));
    return Promise.resolve();
  }

  /** Connects, nominates the pair with a binding request and keeps its consent. */
  async connect(timeoutMs: number): Promise<void> {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        this.socket.once('connect', () => resolve());
        this.socket.once('error', reject);
        this.socket.once('close', () => reject(new Error('ICE-TCP connection closed')));
      }),
      'ICE-TCP connect',
      timeoutMs,
    );
    await withTimeout(this.#check(true), 'ICE-TCP binding', timeoutMs);
    this.#consentAt = performance.now();
    this.#consent = setInterval(() => this.#keepConsent(), this.#consentTiming.everyMs);
    this.#consent.unref();
  }

  /** A consent check; or, when none was answered for the timeout, the consent lost. */
  #keepConsent(): void {
    if (this.#closed) return;
    if (performance.now() - this.#consentAt >= this.#consentTiming.timeoutMs) {
      this.consentLost = true;
      this.close().catch(() => undefined);
      this.onConsentLost();
      return;
    }
    this.#check(false).then(
      () => (this.#consentAt = performance.now()),
      () => undefined,
    );
  }

  #check(nominate: boolean): Promise<void> {
    const transactionId = randomBytes(12);
    const answered = new Promise<void>((resolve, reject) => {
      this.#waiting.set(transactionId.toString('hex'), { resolve, reject });
    });
    void this.send(
      bindingRequest(this.#remote, this.localUfrag, { nominate, transactionId, tieBreaker: this.#tieBreaker }),
    );
    return answered;
  }

  #onFrame(pkt: Buffer): void {
    const stun = stunOf(pkt);
    const waiter = stun && this.#waiting.get(stun.id);
    if (!stun || !waiter) {
      this.onPacket(pkt);
      return;
    }
    this.#waiting.delete(stun.id);
    if (stun.type === BINDING_SUCCESS) {
      this.answered += 1;
      waiter.resolve();
    } else if (stun.type === BINDING_ERROR) waiter.reject(new Error('ICE-TCP binding request refused'));
  }

  #fail(err: Error): void {
    clearInterval(this.#consent);
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }

  /** Closes the socket; binding requests still waiting for an answer are rejected. */
  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#fail(new Error('closed'));
      this.socket.destroy();
    }
    return Promise.resolve();
  }
}

/**
 * ICE over TCP to the transport's TCP candidate. `created` gets the link before it
 * connects, so that its owner can close it while it is still connecting.
 */
export async function tcpIceToMediasoup(
  remote: IceRemote,
  timeoutMs: number,
  created: (link: TcpIceLink) => void = () => undefined,
  consent?: { everyMs: number; timeoutMs: number },
): Promise<TcpIceLink> {
  const c = remote.iceCandidates.find((x) => x.protocol === 'tcp');
  if (!c) throw new Error('the transport offers no TCP candidate');
  const link = new TcpIceLink(remote.iceParameters, { ip: c.ip ?? c.address ?? '', port: c.port }, consent);
  created(link);
  try {
    await link.connect(timeoutMs);
  } catch (err) {
    await link.close();
    throw err;
  }
  return link;
}
