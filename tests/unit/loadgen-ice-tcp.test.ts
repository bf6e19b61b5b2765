// The load generator's ICE-TCP pieces that need no SFU: RFC 4571 frames cut back out of
// a byte stream however it is split, the binding request a controlling agent sends
// (checked by werift's STUN parser: integrity with the remote password, fingerprint), and
// the consent checks against a TCP peer on loopback that stops answering them (RFC 7675).
import net from 'node:net';
import { Message, parseMessage } from 'werift';
import { Deframer, TcpIceLink, bindingRequest, framed } from '../../scripts/loadgen/ice-tcp';
import { impairedIndexes, spreadAvoiding } from '../../scripts/loadgen/impair';
import { parseShare } from '../../scripts/loadgen';

// The consent tests wait on real timers and sockets: a loaded machine stretches them.
jest.setTimeout(60_000);

test('frames come out whole whatever the reads split', () => {
  const packets = [Buffer.alloc(1, 1), Buffer.alloc(1200, 2), Buffer.alloc(0), Buffer.alloc(60_000, 3)];
  const stream = Buffer.concat(packets.map(framed));
  for (const step of [1, 3, 700, stream.length]) {
    const out: Buffer[] = [];
    const d = new Deframer((p) => out.push(p));
    for (let i = 0; i < stream.length; i += step) d.push(stream.subarray(i, i + step));
    expect(out).toEqual(packets);
  }
  expect(() => framed(Buffer.alloc(70_000))).toThrow(/RFC 4571/);
});

test('a binding request nominating the pair, as the ICE-lite side checks it', () => {
  const remote = { usernameFragment: 'sfuUfrag', password: 'sfu-password-0123456789' };
  const raw = bindingRequest(remote, 'mine');
  const m = parseMessage(raw, Buffer.from(remote.password)) as Message;
  expect(m).toBeDefined();
  expect(m.getAttributeValue('USERNAME')).toBe('sfuUfrag:mine');
  expect(m.getAttributeValue('PRIORITY')).toBeGreaterThan(0);
  expect(m.attributesKeys).toEqual(
    expect.arrayContaining(['USE-CANDIDATE', 'ICE-CONTROLLING', 'MESSAGE-INTEGRITY', 'FINGERPRINT']),
  );
  expect(bindingRequest(remote, 'mine', { nominate: false })).not.toContain(Buffer.from([0x00, 0x25, 0x00, 0x00]));
  // Another password: the integrity check fails.
  expect(parseMessage(raw, Buffer.from('another-password'))).toBeUndefined();
});

test('--tcp-share: a share between 0 and 1, its points spread between the impaired ones', () => {
  expect(parseShare('0.1', 'tcp-share', 0)).toBe(0.1);
  expect(parseShare(undefined, 'tcp-share', 0.1)).toBe(0.1);
  expect(() => parseShare('10', 'tcp-share', 0)).toThrow(/between 0 and 1/);
  expect(() => parseShare('', 'tcp-share', 0)).toThrow(/between 0 and 1/);
  expect([...spreadAvoiding(20, 0.1, new Set())]).toEqual([5, 15]);
  expect(spreadAvoiding(420, 0.1, new Set()).size).toBe(42);
});

test('the TCP points never fall on impaired ones, whatever the two shares', () => {
  for (const [impairPct, tcpShare] of [
    [10, 0.25],
    [20, 0.1],
    [50, 0.5],
    [90, 0.5],
  ] as const) {
    const impaired = impairedIndexes(420, impairPct);
    const tcp = spreadAvoiding(420, tcpShare, impaired);
    expect([...tcp].filter((i) => impaired.has(i))).toEqual([]);
    expect(tcp.size).toBe(Math.min(420 - impaired.size, Math.round(420 * tcpShare)));
  }
});

/**
 * A TCP peer on loopback answering the first `answers` binding requests with a success
 * (the same transaction id), then none.
 */
async function stunPeer(answers: number) {
  let asked = 0;
  let closed: () => void = () => undefined;
  const gone = new Promise<void>((resolve) => (closed = resolve));
  const server = net.createServer((sock) => {
    sock.on('error', () => undefined);
    sock.on('close', () => closed());
    const d = new Deframer((pkt) => {
      asked += 1;
      if (asked > answers) return;
      const res = Buffer.alloc(20);
      res.writeUInt16BE(0x0101, 0);
      pkt.copy(res, 4, 4, 20); // magic cookie and transaction id
      sock.write(framed(res));
    });
    sock.on('data', (c: Buffer) => d.push(c));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return { port, closed: gone, asked: () => asked, stop: () => new Promise((r) => server.close(r)) };
}

const remote = { usernameFragment: 'sfuUfrag', password: 'sfu-password-0123456789' };

test('consent: no check answered for the timeout closes the link and says so once', async () => {
  const peer = await stunPeer(3);
  // Generous against stalls of the event loop: a stall as long as the timeout would lose
  // the consent before the three answers are in.
  const link = new TcpIceLink(remote, { ip: '127.0.0.1', port: peer.port }, { everyMs: 20, timeoutMs: 3000 });
  let lost = 0;
  const lostOnce = new Promise<void>((resolve) => {
    link.onConsentLost = () => {
      lost += 1;
      resolve();
    };
  });
  await link.connect(5000);
  expect(link.consentLost).toBe(false);
  await lostOnce;
  expect(link.consentLost).toBe(true);
  expect(link.closed).toBe(true);
  // The nomination and two consent checks were answered; the rest were not.
  expect(link.answered).toBe(3);
  await peer.closed;
  const asked = peer.asked();
  expect(asked).toBeGreaterThan(3);
  await new Promise((r) => setTimeout(r, 50));
  expect(peer.asked()).toBe(asked);
  expect(lost).toBe(1);
  await peer.stop();
});

test('consent: checks answered keep the link for longer than the timeout', async () => {
  const peer = await stunPeer(Infinity);
  // A timeout far above the checks' period: a stall of the event loop shorter than it (a
  // loaded machine) holds the answers back without losing the consent.
  const link = new TcpIceLink(remote, { ip: '127.0.0.1', port: peer.port }, { everyMs: 50, timeoutMs: 3000 });
  link.onConsentLost = () => undefined;
  await link.connect(5000);
  // 80 checks answered 50 ms apart: past the 3 s timeout. A link that closes ends the
  // wait, and the checks below say why.
  while (link.answered < 80 && !link.closed) await new Promise((r) => setTimeout(r, 50));
  expect(link.consentLost).toBe(false);
  expect(link.closed).toBe(false);
  expect(link.answered).toBeGreaterThanOrEqual(80);
  await link.close();
  await peer.stop();
});
