// The application secret: never one from the repository. Without APP_SECRET a server
// makes a random one in its data folder (0600) and keeps it across restarts; links,
// check-in codes and cookies signed with the formerly published development value (the
// old way or through today's key derivation) are refused; each purpose has its own key.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pino from 'pino';
import request from 'supertest';
import { resolveAppSecret, SECRET_FILE } from '../../server/security/app-secret';
import { KEY_PURPOSES, SecretKeys } from '../../server/security/keys';
import { ADMIN_ENV, login, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { forge, joinClaims } from '../helpers/forge';
import { startTestOrchestrator, type TestOrchestrator } from '../helpers/orchestrator';
import { publishedDevSecret } from '../helpers/published-secret';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(60_000);

const silent = pino({ level: 'silent' });
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-secret-'));

describe('the secret file', () => {
  const dirs: string[] = [];
  const dir = () => {
    const d = tmp();
    dirs.push(d);
    return d;
  };
  afterAll(() => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  const resolve = (dataDir: string, production = false) =>
    resolveAppSecret({ configured: undefined, dataDir, production, logger: silent });

  test('made once, 64 random hex digits, mode 0600; read back the same; another folder, another secret', async () => {
    const d = path.join(dir(), 'nested', 'data');
    const s = await resolve(d);
    expect(s).toMatch(/^[0-9a-f]{64}$/);
    expect(fs.statSync(path.join(d, SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(await resolve(d)).toBe(s);
    expect(await resolve(dir())).not.toBe(s);
    expect(fs.readdirSync(d)).toEqual([SECRET_FILE]); // no temporary file left
  });

  test('processes starting together on one folder end up with one secret', async () => {
    const d = dir();
    const all = await Promise.all(Array.from({ length: 8 }, () => resolve(d)));
    expect(new Set(all).size).toBe(1);
  });

  test('APP_SECRET wins and nothing is written', async () => {
    const d = dir();
    const s = await resolveAppSecret({ configured: 'z'.repeat(40), dataDir: d, production: false, logger: silent });
    expect(s).toBe('z'.repeat(40));
    expect(fs.existsSync(path.join(d, SECRET_FILE))).toBe(false);
  });

  test('a file readable by others is tightened; a weak or published one stops start-up', async () => {
    const d = dir();
    const file = path.join(d, SECRET_FILE);
    await resolve(d);
    fs.chmodSync(file, 0o644);
    await resolve(d);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    fs.writeFileSync(file, 'short\n', { mode: 0o600 });
    await expect(resolve(d)).rejects.toThrow(/at least 32 characters/);
    fs.writeFileSync(file, `${publishedDevSecret()}\n`, { mode: 0o600 });
    await expect(resolve(d)).rejects.toThrow(/published/);
    fs.writeFileSync(file, `${'ab'.repeat(20)}\n`, { mode: 0o600 });
    await expect(resolve(d, true)).rejects.toThrow(/too easy to guess/);
  });

  test('one key per purpose, all different, the same for the same secret', () => {
    const a = new SecretKeys('s'.repeat(16) + 't'.repeat(16));
    const b = new SecretKeys('s'.repeat(16) + 't'.repeat(16));
    const keys = KEY_PURPOSES.map((p) => a.for(p).toString('hex'));
    expect(new Set(keys).size).toBe(KEY_PURPOSES.length);
    for (const p of KEY_PURPOSES) {
      expect(a.for(p)).toHaveLength(32);
      expect(b.for(p).equals(a.for(p))).toBe(true);
    }
  });
});

describe('a server started without APP_SECRET', () => {
  let r: TestRedis;
  let dataDir: string;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  const old = publishedDevSecret();

  beforeAll(async () => {
    r = await startTestRedis();
    dataDir = tmp();
    o = await startTestOrchestrator(r.url, { ...ADMIN_ENV, DATA_DIR: dataDir });
    b = await prepareBriefing(o.baseUrl, ['HT-CX', 'HT-DT']);
  });
  afterAll(async () => {
    await o?.stop();
    await r?.cleanup();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('keeps a generated secret in DATA_DIR, 0600', () => {
    const file = path.join(dataDir, SECRET_FILE);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8').trim()).toMatch(/^[0-9a-f]{64}$/);
  });

  test('refuses join links, check-in codes and cookies signed with the formerly published value', async () => {
    const real = b.links[0]!.token;
    expect((await request(o.baseUrl).get(`/api/v1/join/${real}`)).status).toBe(200);
    const claims = joinClaims(real);
    for (const f of [forge.legacy(old), forge.derived(old)]) {
      const join = await request(o.baseUrl).get(`/api/v1/join/${f.joinToken(claims)}`);
      expect([join.status, join.body.code]).toEqual([401, 'token_invalid']);

      const qr = f.checkin.issue({ sessionId: b.sessionId, pointId: 'HT-CX' }).token;
      const open = await request(o.baseUrl).get(`/api/v1/checkin/${qr}`);
      expect([open.status, open.body.code]).toEqual([401, 'token_invalid']);
      const device = f.checkin.newDevice();
      const ticket = f.checkin.ticket({ sessionId: b.sessionId, pointId: 'HT-CX', device: device.device });
      const submit = await request(o.baseUrl)
        .post('/api/v1/checkin')
        .set('Cookie', `briefing_device=${device.cookie}`)
        .send({ ticket, name: 'Người giả mạo' });
      expect([submit.status, submit.body.code]).toEqual([401, 'token_invalid']);

      // Even knowing a live login's session id, its cookie cannot be re-signed.
      const sid = decodeURIComponent(b.cookie.split('=')[1]!).split('.')[0]!;
      const me = await request(o.baseUrl)
        .get('/api/v1/auth/me')
        .set('Cookie', `briefing_sid=${encodeURIComponent(f.cookie(sid))}`);
      expect(me.body.user).toBeNull();
    }
    expect((await request(o.baseUrl).get('/api/v1/auth/me').set('Cookie', b.cookie)).body.user).not.toBeNull();
  });

  test('a restart on the same data folder keeps links and logins valid; another folder does not', async () => {
    const token = b.links[1]!.token;
    await o.stop();
    o = await startTestOrchestrator(r.url, { DATA_DIR: dataDir });
    expect((await request(o.baseUrl).get(`/api/v1/join/${token}`)).status).toBe(200);
    expect((await request(o.baseUrl).get('/api/v1/auth/me').set('Cookie', b.cookie)).body.user?.username).toBe(
      ADMIN_ENV.ADMIN_USERNAME,
    );

    const otherDir = tmp();
    const other = await startTestOrchestrator(r.url, { DATA_DIR: otherDir });
    try {
      expect((await request(other.baseUrl).get(`/api/v1/join/${token}`)).body.code).toBe('token_invalid');
      expect((await request(other.baseUrl).get('/api/v1/auth/me').set('Cookie', b.cookie)).body.user).toBeNull();
      // Its own logins work (same Redis, its own secret).
      expect(await login(other.baseUrl)).toMatch(/^briefing_sid=/);
    } finally {
      await other.stop();
      fs.rmSync(otherDir, { recursive: true, force: true });
    }
  });
});

describe('Redis with a password (as docker-compose runs it)', () => {
  test('the server uses the password in REDIS_URL for every connection (store, jobs)', async () => {
    const r = await startTestRedis();
    const password = randomBytes(16).toString('hex');
    const admin = new Redis(r.url);
    await admin.call('CONFIG', 'SET', 'requirepass', password);
    admin.disconnect();
    const url = new URL(r.url);
    url.password = password;
    const o = await startTestOrchestrator(url.toString(), ADMIN_ENV);
    try {
      expect((await request(o.baseUrl).get('/readyz')).status).toBe(200);
      const b = await prepareBriefing(o.baseUrl, ['HT-CX']); // writes, and schedules BullMQ jobs
      expect((await request(o.baseUrl).get(`/api/v1/join/${b.links[0]!.token}`)).status).toBe(200);
    } finally {
      await o.stop();
      await r.cleanup();
    }
  });
});
