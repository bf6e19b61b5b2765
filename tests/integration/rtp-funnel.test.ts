// The RTP funnel on real loopback sockets: every stream leaves by one socket, bound to
// the ingest's own address (here 127.0.0.2, so a wildcard socket would show 127.0.0.1),
// RTP to the ingest's RTP port and RTCP to its RTCP port; a second sender on an input is
// dropped.
import dgram from 'node:dgram';
import pino from 'pino';
import { RtpFunnel } from '../../server/ingest/rtp-funnel';

const INGEST_IP = '127.0.0.2';

async function socketOn(ip: string): Promise<dgram.Socket> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    s.once('error', reject);
    s.bind(0, ip, () => resolve());
  });
  return s;
}

describe('the RTP funnel', () => {
  const open: dgram.Socket[] = [];
  let funnel: RtpFunnel | undefined;
  afterEach(() => {
    funnel?.close();
    for (const s of open.splice(0)) s.close();
  });

  test("forwards every stream from one socket bound to the ingest's address; drops a second sender", async () => {
    const rtp = await socketOn(INGEST_IP);
    const rtcp = await socketOn(INGEST_IP);
    open.push(rtp, rtcp);
    const got: { to: 'rtp' | 'rtcp'; text: string; from: string }[] = [];
    rtp.on('message', (m, r) => got.push({ to: 'rtp', text: m.toString(), from: `${r.address}:${r.port}` }));
    rtcp.on('message', (m, r) => got.push({ to: 'rtcp', text: m.toString(), from: `${r.address}:${r.port}` }));
    funnel = await RtpFunnel.open(
      2,
      { ip: INGEST_IP, port: rtp.address().port, rtcpPort: rtcp.address().port },
      pino({ level: 'silent' }),
    );
    const a = await socketOn('127.0.0.1');
    const b = await socketOn('127.0.0.1');
    open.push(a, b);
    const sendTo = (s: dgram.Socket, text: string, port: number) =>
      new Promise<void>((resolve) => s.send(text, port, '127.0.0.1', () => resolve()));
    await sendTo(a, 'layer0', funnel.inputs[0]!.rtp);
    await sendTo(a, 'sr0', funnel.inputs[0]!.rtcp);
    await sendTo(b, 'layer1', funnel.inputs[1]!.rtp);
    await sendTo(b, 'intruder', funnel.inputs[0]!.rtp); // input 0 heard `a` first
    // A last packet from `a` on the same input: the funnel forwards an input's packets in
    // order, so once it is out, a forwarded intruder would be out too.
    await sendTo(a, 'last0', funnel.inputs[0]!.rtp);
    const deadline = Date.now() + 5000;
    while (!(got.length >= 4 && got.some((g) => g.text === 'last0')) && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 20));
    expect(got.map((g) => `${g.to} ${g.text}`).sort()).toEqual(['rtcp sr0', 'rtp last0', 'rtp layer0', 'rtp layer1']);
    const sources = new Set(got.map((g) => g.from));
    expect(sources.size).toBe(1);
    expect([...sources][0]).toMatch(/^127\.0\.0\.2:\d+$/);
  });
});
