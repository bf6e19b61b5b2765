// Plain TURN requests (werift's STUN messages) to a relay over UDP, TCP or TLS: a link
// that sends one message and reads one answer at a time, and an Allocate with a
// credential of coturn's shared-secret scheme.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { classes, makeIntegrityKey, Message, methods, parseMessage } from 'werift';

export interface Relay {
  host: string;
  port: number;
  /** For 'tls': its port and the CA its certificate is checked against (name: localhost). */
  tlsPort?: number;
  ca?: string;
}

export type TurnTransport = 'udp' | 'tcp' | 'tls';

export interface TurnLink {
  ask: (m: Message) => Promise<Buffer>;
  close: () => void;
}

/** Sends STUN messages to the relay and reads one answer each. */
export async function turnLink(relay: Relay, transport: TurnTransport): Promise<TurnLink> {
  if (transport === 'udp') {
    const sock = dgram.createSocket(net.isIPv6(relay.host) ? 'udp6' : 'udp4');
    return {
      ask: (m: Message) =>
        new Promise<Buffer>((resolve) => {
          sock.once('message', resolve);
          sock.send(m.bytes, relay.port, relay.host);
        }),
      close: () => sock.close(),
    };
  }
  const sock =
    transport === 'tls'
      ? tls.connect({ host: relay.host, port: relay.tlsPort!, ca: relay.ca, servername: 'localhost' })
      : net.connect({ host: relay.host, port: relay.port });
  const ready = transport === 'tls' ? 'secureConnect' : 'connect';
  await new Promise<void>((resolve, reject) => sock.once(ready, resolve).once('error', reject));
  let buf = Buffer.alloc(0);
  let waiting: ((b: Buffer) => void) | undefined;
  sock.on('data', (d: Buffer) => {
    buf = Buffer.concat([buf, d]);
    // A STUN message over a stream: 20-byte header whose bytes 2-3 give the body length.
    if (buf.length >= 20 && buf.length >= 20 + buf.readUInt16BE(2) && waiting) {
      const n = 20 + buf.readUInt16BE(2);
      const msg = buf.subarray(0, n);
      buf = buf.subarray(n);
      const w = waiting;
      waiting = undefined;
      w(msg);
    }
  });
  return {
    ask: (m: Message) =>
      new Promise<Buffer>((resolve) => {
        waiting = resolve;
        sock.write(m.bytes);
      }),
    close: () => sock.destroy(),
  };
}

/** A TURN Allocate with these credentials: what the relay answers ('allocated', or 'error <code>'). */
export async function allocate(
  relay: Relay,
  cred: { username: string; credential: string },
  transport: TurnTransport = 'udp',
): Promise<string> {
  const link = await turnLink(relay, transport);
  const timer = setTimeout(() => link.close(), 5000);
  const request = () => new Message(methods.ALLOCATE, classes.REQUEST).setAttribute('REQUESTED-TRANSPORT', 0x11000000);
  try {
    // The first answer is 401 with the realm and a nonce; then the authenticated request.
    const challenge = parseMessage(await link.ask(request()))!;
    const realm = challenge.getAttributeValue('REALM') as string;
    const key = makeIntegrityKey(cred.username, realm, cred.credential);
    const m = request()
      .setAttribute('USERNAME', cred.username)
      .setAttribute('REALM', realm)
      .setAttribute('NONCE', challenge.getAttributeValue('NONCE') as Buffer)
      .addMessageIntegrity(key)
      .addFingerprint();
    const answer = parseMessage(await link.ask(m))!;
    if (answer.messageClass === classes.RESPONSE) return 'allocated';
    const [code] = answer.getAttributeValue('ERROR-CODE') as [number, string];
    return `error ${code}`;
  } finally {
    clearTimeout(timer);
    link.close();
  }
}
