// A server whose SIP port is taken does not start half way: SIP binds before HTTP, so
// the failure leaves no HTTP port open to the outside.
import dgram from 'node:dgram';
import net from 'node:net';
import pino from 'pino';
import { Orchestrator } from '../../server/assembly/orchestrator';
import { loadConfig } from '../../server/config';
import { TEST_APP_SECRET } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

describe('SIP port taken at start', () => {
  let r: TestRedis;
  let taken: dgram.Socket;
  let o: Orchestrator | undefined;

  beforeAll(async () => {
    r = await startTestRedis();
    taken = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
  }, 30_000);

  afterAll(async () => {
    await o?.stop();
    taken?.close();
    await r?.cleanup();
  });

  test('listen fails and the HTTP port was never opened', async () => {
    const httpPort = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, '127.0.0.1', () => {
        const { port } = s.address() as net.AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const config = loadConfig({
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(httpPort),
      RTC_LISTEN_IP: '127.0.0.1',
      RTC_PORT: '0',
      MEDIASOUP_WORKERS: '1',
      LOG_LEVEL: 'silent',
      APP_SECRET: TEST_APP_SECRET,
      SIP_PORT: String(taken.address().port),
      SIP_LISTEN_IP: '127.0.0.1',
    });
    o = await Orchestrator.create(config, pino({ level: 'silent' }), r.url);
    await expect(o.listen()).rejects.toMatchObject({ code: 'EADDRINUSE' });
    expect(o.app.http.listening).toBe(false);
    const refused = await new Promise<boolean>((resolve) => {
      const c = net.connect(httpPort, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        resolve(false);
      });
      c.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  }, 60_000);
});
