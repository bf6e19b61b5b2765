// Signed alert webhooks to a real local HTTP receiver: the signature checks with the
// purpose key, a refused delivery is retried, and the alert path does not wait for it.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Socket as ClientSocket } from 'socket.io-client';
import { SecretKeys } from '../../server/security/keys';
import { ask, pointSocket, sessionWith, somePoints, useTestPointNamespace } from '../helpers/attendance';
import { startTestOrchestrator, TEST_APP_SECRET, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

interface Received {
  event: string;
  alert: { id: string; state: string; kind: string };
}

describe('alert webhooks (real HTTP receiver, Redis, socket.io)', () => {
  let r: TestRedis;
  let t: TestOrchestrator;
  let receiver: http.Server;
  const sockets: ClientSocket[] = [];
  const got: Received[] = [];
  let calls = 0;
  let refuseFirst = true;
  const key = new SecretKeys(TEST_APP_SECRET).for('alert-webhook');

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        calls++;
        if (refuseFirst) {
          refuseFirst = false;
          res.writeHead(503).end();
          return;
        }
        const ts = String(req.headers['x-briefing-timestamp']);
        const sig = Buffer.from(String(req.headers['x-briefing-signature']));
        // As a receiver would check it, from the documented format.
        const want = Buffer.from(`sha256=${createHmac('sha256', key).update(`${ts}.${body}`).digest('hex')}`);
        const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 300;
        if (sig.length !== want.length || !timingSafeEqual(sig, want) || !fresh) {
          res.writeHead(401).end();
          return;
        }
        got.push(JSON.parse(body) as Received);
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((res) => receiver.listen(0, '127.0.0.1', res));
    const port = (receiver.address() as AddressInfo).port;
    r = await startTestRedis();
    t = await startTestOrchestrator(r.url, { ALERT_WEBHOOK_URLS: `http://127.0.0.1:${port}/hook` });
    useTestPointNamespace(t);
  });
  afterAll(async () => {
    for (const s of sockets) s.close();
    await t?.stop();
    await r?.cleanup();
    await new Promise((res) => receiver?.close(res));
  });

  test('a raise and a resolve arrive signed; a refused delivery is retried', async () => {
    const [p] = await somePoints(t, 1);
    const s = await sessionWith(t, [p!], 'live');
    const sock = await pointSocket(t, s.id, p!);
    sockets.push(sock);
    const { alertId } = await ask<{ alertId: string }>(sock, 'problem:report', { kind: 'no-video' });
    await waitFor(() => got.some((g) => g.event === 'alert.raised' && g.alert.id === alertId), 'the raise, retried');
    expect(calls).toBeGreaterThanOrEqual(2);
    await t.orchestrator.attendance.service.clearAlert(s.id, alertId, 'kỹ thuật viên');
    await waitFor(
      () => got.some((g) => g.event === 'alert.updated' && g.alert.id === alertId && g.alert.state === 'cleared'),
      'the resolve',
    );
    expect(got.find((g) => g.event === 'alert.raised')!.alert).toMatchObject({ kind: 'no-video', state: 'open' });
  });
});
