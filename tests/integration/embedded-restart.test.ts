// The server's embedded redis-server and coturn, killed mid-briefing: each is started
// again on its own (same port, same data), /readyz is back to 200 and the API works on
// the data written before; TURN credentials a page was handed before the kill allocate
// a relay on the coturn started again.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { REFERENCE_AGENDA } from '../../server/data/reference-briefing';
import { freePort } from '../../server/redis/embedded-redis';
import { ADMIN_ENV, connectSocket, prepareBriefing } from '../helpers/briefing';
import { ok } from '../helpers/cluster';
import { onLoopback, startMain } from '../helpers/main-process';
import { aofText } from '../helpers/redis';
import { waitFor } from '../helpers/orchestrator';
import { allocate } from '../helpers/turn';

/** The server's JSON log lines with this message. */
function logged(out: string, msg: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{') && l.includes(msg))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((l) => l.msg === msg);
}

const readyz = async (url: string) => {
  const res = await fetch(`${url}/readyz`);
  return { status: res.status, body: (await res.json()) as { checks: Record<string, string> } };
};

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const answers = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

describe('embedded services killed under a running server', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-restart-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const base = () => ({ ...onLoopback(dir), ...ADMIN_ENV });

  test('redis-server SIGKILLed: restarted with its AOF, ready again, sessions and logins kept, jobs run', async () => {
    const m = startMain(base());
    try {
      const url = await waitFor(() => /Host console:\s+(\S+)\/host/.exec(m.out())?.[1], 'the server', 60_000);
      const b = await prepareBriefing(url, ['HT-CX']);
      await waitFor(() => aofText(path.join(dir, 'redis')).includes(b.sessionId) || undefined, 'the AOF', 10_000);
      const pid = Number(/"redisPid":(\d+)/.exec(m.out())?.[1]);
      expect(alive(pid)).toBe(true);

      process.kill(pid, 'SIGKILL');
      const ended = await waitFor(
        () => logged(m.out(), 'embedded redis-server ended; restarting it')[0],
        'the end logged',
      );
      expect(ended).toMatchObject({ level: 50, signal: 'SIGKILL', pid, delayMs: 500 });
      // Its last lines, whatever they are (AOF or fsync warnings may come after "Ready").
      expect(typeof ended.output === 'string' && ended.output.trim()).toBeTruthy();
      const back = await waitFor(() => logged(m.out(), 'embedded redis-server is back')[0], 'redis back', 20_000);
      expect(back).toMatchObject({ restarts: 1 });
      const newPid = Number([...m.out().matchAll(/"redisPid":(\d+)/g)].at(-1)?.[1]);
      expect(newPid).not.toBe(pid);
      expect(alive(newPid)).toBe(true);
      await waitFor(async () => (await readyz(url)).status === 200, '/readyz 200 again', 20_000);

      // The session and the login written before the kill, read back from the replayed AOF.
      const got = await request(url).get(`/api/v1/sessions/${b.sessionId}`).set('Cookie', b.cookie);
      expect(got.status).toBe(200);
      expect(got.body).toMatchObject({ id: b.sessionId, state: 'lobby' });

      // A new session's lobby opens by its BullMQ job: the worker reconnected too.
      const now = Date.now();
      const created = await request(url)
        .post('/api/v1/sessions')
        .set('Cookie', b.cookie)
        .send({
          title: 'Giao ban sau sự cố Redis',
          scheduledStart: new Date(now + 30 * 60_000).toISOString(),
          plannedEnd: new Date(now + 120 * 60_000).toISOString(),
          agenda: REFERENCE_AGENDA,
          invite: { mode: 'points', pointIds: ['HT-CX'] },
        });
      expect(created.status).toBe(201);
      const id = created.body.id as string;
      expect((await request(url).post(`/api/v1/sessions/${id}/schedule`).set('Cookie', b.cookie)).status).toBe(200);
      await waitFor(
        async () => (await request(url).get(`/api/v1/sessions/${id}`).set('Cookie', b.cookie)).body.state === 'lobby',
        'the open-lobby job to run',
        20_000,
      );

      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/embedded_process_restarts_total\{process="redis-server"\} 1/);
      process.stdout.write(`[fault] embedded redis-server back ${String(back.downMs)} ms after its end\n`);
    } finally {
      m.child.kill('SIGTERM');
      await m.exited;
    }
  }, 120_000);

  test('coturn SIGKILLed: /readyz says so, then it is restarted on its ports, ready again, credentials kept', async () => {
    const turnPort = await freePort();
    const m = startMain({
      ...base(),
      TURN: 'embedded',
      TURN_LISTEN_IP: '127.0.0.1',
      TURN_PORT: String(turnPort),
      TURN_TLS_PORT: String(await freePort()),
    });
    try {
      const url = await waitFor(() => /Host console:\s+(\S+)\/host/.exec(m.out())?.[1], 'the server', 60_000);
      expect(await readyz(url)).toMatchObject({ status: 200, body: { checks: { turn: 'ok' } } });
      // The relay's credentials a point's page is handed with its transport, before the kill.
      const b = await prepareBriefing(url, ['HT-CX']);
      const point = await connectSocket(url, '/point', { token: b.links[0]!.token });
      let ice: { urls: string[]; username: string; credential: string }[];
      try {
        const { routerRtpCapabilities } = await ok(point, 'rtc:capabilities');
        ({ iceServers: ice } = await ok(point, 'rtc:createTransport', {
          direction: 'recv',
          rtpCapabilities: routerRtpCapabilities,
        }));
      } finally {
        point.close();
      }
      expect(ice[0]!.urls).toContain(`turn:127.0.0.1:${turnPort}?transport=udp`);
      const relay = { host: '127.0.0.1', port: turnPort };
      expect(await allocate(relay, ice[0]!)).toBe('allocated');
      const pid = Number(/"coturnPid":(\d+)/.exec(m.out())?.[1]);
      expect(alive(pid)).toBe(true);

      process.kill(pid, 'SIGKILL');
      const down = await waitFor(
        async () => {
          const r = await readyz(url);
          return r.status === 503 ? r : undefined;
        },
        '/readyz 503',
        5000,
        50,
      );
      expect(down.body.checks.turn).toBe('embedded TURN relay down; restarting it');
      const ended = await waitFor(() => logged(m.out(), 'embedded coturn ended; restarting it')[0], 'the end logged');
      expect(ended).toMatchObject({ level: 50, signal: 'SIGKILL', pid });

      const back = await waitFor(() => logged(m.out(), 'embedded coturn is back')[0], 'coturn back', 20_000);
      expect(back).toMatchObject({ restarts: 1 });
      expect(await readyz(url)).toMatchObject({ status: 200, body: { checks: { turn: 'ok' } } });
      const newPid = Number([...m.out().matchAll(/"coturnPid":(\d+)/g)].at(-1)?.[1]);
      expect(newPid).not.toBe(pid);
      expect(alive(newPid)).toBe(true);
      expect(await answers(turnPort)).toBe(true);
      // Same secret: the credentials handed out before the kill still allocate a relay.
      expect(await allocate(relay, ice[0]!)).toBe('allocated');
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/# TYPE embedded_process_restarts_total counter/);
      expect(metrics).toMatch(/embedded_process_restarts_total\{process="coturn"\} 1/);
      process.stdout.write(`[fault] embedded coturn back ${String(back.downMs)} ms after its end\n`);
    } finally {
      m.child.kill('SIGTERM');
      await m.exited;
    }
  }, 120_000);
});
