// The embedded coturn (TURN=embedded) with the credentials pages are handed: a fresh one
// allocates a relay over UDP, TCP and TLS, and may relay to the SFU's address only; an
// expired one, or one made with another secret, is refused by coturn itself. Plain TURN
// requests (werift's STUN messages), loopback only.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { classes, makeIntegrityKey, Message, methods, parseMessage } from 'werift';
import { EmbeddedCoturn } from '../../server/net/coturn';
import { ensureLocalCa } from '../../server/net/local-ca';
import { turnCredential } from '../../server/net/turn';
import { freePort } from '../../server/redis/embedded-redis';
import { allocate as allocateWith, type Relay, turnLink, type TurnTransport } from '../helpers/turn';

describe('embedded coturn with time-limited credentials', () => {
  let dir: string;
  let coturn: EmbeddedCoturn;
  let port: number;
  let tlsPort: number;
  let caPem: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'turn-relay-'));
    const ca = ensureLocalCa(dir, { dns: ['localhost'], ips: ['127.0.0.1'] });
    caPem = fs.readFileSync(ca.caFile, 'utf8');
    port = await freePort();
    tlsPort = await freePort();
    const relay = await freePort();
    coturn = await EmbeddedCoturn.start({
      dir: path.join(dir, 'turn'),
      listenIp: '127.0.0.1',
      externalIp: '127.0.0.1',
      // 10.9.9.9 stands for the SFU's private address (a permission sends nothing to it).
      allowedPeers: ['127.0.0.1', '10.9.9.9'],
      port,
      tlsPort,
      relayPorts: [Math.max(relay, 1024), Math.min(relay + 20, 65535)],
      realm: 'localhost',
      cert: { certFile: ca.certFile, keyFile: ca.keyFile },
      logger: pino({ level: 'silent' }),
    });
  }, 30_000);

  afterAll(async () => {
    await coturn?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('its config file, holding the shared secret, is readable by this user only', () => {
    expect(fs.statSync(path.join(dir, 'turn', 'turnserver.conf')).mode & 0o777).toBe(0o600);
  });

  const relay = (): Relay => ({ host: '127.0.0.1', port, tlsPort, ca: caPem });
  const allocate = (cred: { username: string; credential: string }, transport: TurnTransport = 'udp') =>
    allocateWith(relay(), cred, transport);

  test('a fresh credential allocates a relay over UDP, TCP and TLS', async () => {
    const cred = turnCredential(coturn.secret, 'HT-CX', 600);
    expect(await allocate(cred, 'udp')).toBe('allocated');
    expect(await allocate(cred, 'tcp')).toBe('allocated');
    expect(await allocate(cred, 'tls')).toBe('allocated');
  });

  /** Allocates over UDP, then asks permission to relay to each peer: what coturn answers. */
  const permissions = async (peers: [string, number][]) => {
    const cred = turnCredential(coturn.secret, 'HT-CX', 600);
    const link = await turnLink(relay(), 'udp');
    const timer = setTimeout(() => link.close(), 5000);
    try {
      const challenge = parseMessage(
        await link.ask(new Message(methods.ALLOCATE, classes.REQUEST).setAttribute('REQUESTED-TRANSPORT', 0x11000000)),
      )!;
      const realm = challenge.getAttributeValue('REALM') as string;
      const nonce = challenge.getAttributeValue('NONCE') as Buffer;
      const key = makeIntegrityKey(cred.username, realm, cred.credential);
      const signed = (m: Message) =>
        m
          .setAttribute('USERNAME', cred.username)
          .setAttribute('REALM', realm)
          .setAttribute('NONCE', nonce)
          .addMessageIntegrity(key)
          .addFingerprint();
      const allocated = parseMessage(
        await link.ask(
          signed(new Message(methods.ALLOCATE, classes.REQUEST).setAttribute('REQUESTED-TRANSPORT', 0x11000000)),
        ),
      )!;
      expect(allocated.messageClass).toBe(classes.RESPONSE);
      const out: string[] = [];
      for (const peer of peers) {
        const answer = parseMessage(
          await link.ask(
            signed(new Message(methods.CREATE_PERMISSION, classes.REQUEST).setAttribute('XOR-PEER-ADDRESS', peer)),
          ),
        )!;
        out.push(
          answer.messageClass === classes.RESPONSE
            ? 'permitted'
            : `error ${(answer.getAttributeValue('ERROR-CODE') as [number, string])[0]}`,
        );
      }
      return out;
    } finally {
      clearTimeout(timer);
      link.close();
    }
  };

  test('it relays to the SFU only: private, loopback and link-local peers are refused', async () => {
    expect(
      await permissions([
        ['10.9.9.9', 40000],
        ['10.9.9.10', 40000],
        ['127.0.0.1', 6379],
        ['10.1.2.3', 22],
        ['192.168.1.1', 80],
        ['172.17.0.1', 6379],
        ['169.254.169.254', 80],
      ]),
    ).toEqual(['permitted', 'error 403', 'error 403', 'error 403', 'error 403', 'error 403', 'error 403']);
  });

  test('an expired credential, or one made with another secret, is refused', async () => {
    expect(await allocate(turnCredential(coturn.secret, 'HT-CX', -60))).toBe('error 401');
    expect(await allocate(turnCredential('not-the-relay-secret-0123456789abcdef', 'HT-CX', 600))).toBe('error 401');
  });
});
