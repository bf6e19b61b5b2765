// `npm start`'s process as a user runs it: embedded Redis, workers, pages, signals; its
// embedded coturn; and bad certificates or variables stopping it before anything starts.
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ask } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, prepareBriefing, publishHall } from '../helpers/briefing';
import { waitFor } from '../helpers/orchestrator';
import { childProcesses } from '../helpers/procfs';
import { freePort } from '../../server/redis/embedded-redis';
import { REFERENCE_TITLE } from '../../server/data/reference-briefing';
import { onLoopback, startMain } from '../helpers/main-process';

describe('the main process (npm start)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'briefing-main-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('starts an embedded Redis with data under DATA_DIR, prints the page URLs, is ready, and stops cleanly on SIGTERM', async () => {
    const m = startMain(onLoopback(dir));
    try {
      const url = await waitFor(
        () => /Host console:\s+(\S+)\/host/.exec(m.out())?.[1],
        'the URLs to be printed',
        30_000,
      );
      expect(m.out()).toMatch(/Connection monitor:\s+\S+\/monitor/);
      const res = await fetch(`${url}/readyz`);
      expect(res.status).toBe(200);
      expect(fs.readdirSync(path.join(dir, 'redis')).some((f) => f.startsWith('appendonly'))).toBe(true);
      // No APP_SECRET: a random one, kept beside the data, readable by this user only.
      expect(fs.statSync(path.join(dir, 'app-secret')).mode & 0o777).toBe(0o600);
      expect(m.out()).toMatch(/APP_SECRET is not set: generated a random one/);
      const redisPid = Number(/"redisPid":(\d+)/.exec(m.out())?.[1]);
      expect(redisPid).toBeGreaterThan(0);

      m.child.kill('SIGTERM');
      expect(await m.exited).toBe(0);
      expect(m.out()).toMatch(/shutdown complete/);
      expect(() => process.kill(redisPid, 0)).toThrow();
    } finally {
      m.child.kill('SIGKILL');
    }
  }, 60_000);

  test('bad configuration stops start-up with a message naming the variable', async () => {
    const m = startMain({ DATA_DIR: dir, PORT: 'eighty' });
    expect(await m.exited).toBe(2);
    expect(m.out()).toMatch(/PORT: must be a whole number/);
    const p = startMain({
      DATA_DIR: dir,
      NODE_ENV: 'production',
      RTC_ANNOUNCED_IP: '203.0.113.7',
      APP_SECRET: 'briefing-briefing-briefing-briefing',
    });
    expect(await p.exited).toBe(2);
    expect(p.out()).toMatch(/APP_SECRET: is too easy to guess for NODE_ENV=production/);
    // Two cold starts of the TypeScript entry point: as long as one full start above.
  }, 60_000);

  /** Every process below `pid` (children, grandchildren…), with its command name. */
  const descendants = (pid: number): Map<number, string> => {
    const parent = new Map<number, number>();
    const name = new Map<number, string>();
    for (const d of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      try {
        const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
        const close = stat.lastIndexOf(')');
        parent.set(Number(d), Number(stat.slice(close + 2).split(' ')[1]));
        name.set(Number(d), stat.slice(stat.indexOf('(') + 1, close));
      } catch {
        // gone meanwhile
      }
    }
    const out = new Map<number, string>();
    const walk = (p: number) => {
      for (const [child, pp] of parent) {
        if (pp === p && !out.has(child)) {
          out.set(child, name.get(child)!);
          walk(child);
        }
      }
    };
    walk(pid);
    return out;
  };
  /** Still running (a zombie waiting for its parent's wait() is not). */
  const running = (pid: number) => {
    try {
      return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };

  /** On loopback, one worker, the embedded Redis and an embedded coturn on free ports. */
  const withEverything = async (): Promise<Record<string, string>> => ({
    DATA_DIR: dir,
    HOST: '127.0.0.1',
    RTC_LISTEN_IP: '127.0.0.1',
    RTC_PORT: '0',
    MEDIASOUP_WORKERS: '1',
    TURN: 'embedded',
    TURN_LISTEN_IP: '127.0.0.1',
    TURN_PORT: String(await freePort()),
    TURN_TLS_PORT: String(await freePort()),
  });

  const stopLeavesNothing = (signal: 'SIGTERM' | 'SIGINT', target: 'npm' | 'group') => async () => {
    const port = await freePort();
    const m = startMain(
      { ...(await withEverything()), PORT: String(port), PUBLIC_URL: `https://127.0.0.1:${port}` },
      'npm start',
    );
    let tree = new Map<number, string>();
    try {
      await waitFor(() => /Setup link:/.test(m.out()), 'npm start to be running', 120_000, 200);
      tree = descendants(m.child.pid!);
      const names = [...tree.values()];
      // One node process under npm (no shell in between), and everything it started.
      // (a command name is cut at 15 characters)
      expect(names).toEqual(expect.arrayContaining(['node', 'redis-server', 'turnserver', 'mediasoup-worke']));
      expect(names).not.toContain('sh');
      if (target === 'npm') process.kill(m.child.pid!, signal);
      else process.kill(-m.child.pid!, signal);
      // Within 10 s, not one process of the product is left.
      await waitFor(
        () => [...tree.keys()].every((p) => !running(p)),
        `every process gone after ${signal} (left: ${[...tree].filter(([p]) => running(p)).map(([p, n]) => `${n} ${p}`)})`,
        10_000,
        100,
      );
      // npm's own exit code after a SIGINT of its own is npm's business; the server's is 0.
      const code = await m.exited;
      if (target === 'npm') expect(code).toBe(0);
      expect(m.out()).toMatch(/shutdown complete/);
    } finally {
      for (const p of tree.keys()) if (running(p)) process.kill(p, 'SIGKILL');
    }
  };

  test(
    'npm start: SIGTERM to the npm process stops the server, its workers, Redis and coturn within 10 s',
    stopLeavesNothing('SIGTERM', 'npm'),
    150_000,
  );

  test(
    'npm start: Ctrl-C (SIGINT to its process group) leaves no process behind within 10 s',
    stopLeavesNothing('SIGINT', 'group'),
    150_000,
  );

  test('SIGKILL: its ffmpeg recorders, workers, Redis and coturn die with it, within 10 s', async () => {
    const m = startMain({ ...(await withEverything()), ...ADMIN_ENV, PORT: '0' });
    let tree = new Map<number, string>();
    try {
      const url = await waitFor(() => /Host console:\s+(\S+)\/host/.exec(m.out())?.[1], 'the server', 60_000);
      // A live briefing: one recorder per hall track, waiting for packets for ever.
      const b = await prepareBriefing(url, ['HT-CX']);
      const host = await connectSocket(url, '/host', { cookie: b.cookie, own: true });
      try {
        await ask(host, 'host:attach', { sessionId: b.sessionId });
        await publishHall(host);
        await ask(host, 'session:goLive');
        await waitFor(() => childProcesses(m.child.pid!, 'ffmpeg').length >= 2, 'the hall recorders', 30_000);
      } finally {
        host.close();
      }
      tree = descendants(m.child.pid!);
      expect([...tree.values()]).toEqual(
        expect.arrayContaining(['ffmpeg', 'redis-server', 'turnserver', 'mediasoup-worke']),
      );
      m.child.kill('SIGKILL');
      const left = () => [...tree].filter(([p]) => running(p)).map(([p, n]) => `${n} ${p}`);
      await waitFor(() => left().length === 0, 'every child gone', 10_000, 100).catch(() => undefined);
      expect(left()).toEqual([]);
    } finally {
      m.child.kill('SIGKILL');
      for (const p of tree.keys()) if (running(p)) process.kill(p, 'SIGKILL');
    }
  }, 120_000);

  /** A certificate signed by a throw-away CA, with the validity given (openssl ca). */
  const makeCert = (name: string, start: string, end: string): { cert: string; key: string } => {
    const d = path.join(dir, `ca-${name}`);
    fs.mkdirSync(d);
    const sh = (args: string[]) => execFileSync('openssl', args, { cwd: d, stdio: ['ignore', 'ignore', 'pipe'] });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];
    sh(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.crt', '-days', '3650', '-subj', '/CN=test CA']);
    sh(['req', '-new', ...ec, '-keyout', 'key.pem', '-out', 'csr.pem', '-subj', '/CN=localhost']);
    fs.writeFileSync(path.join(d, 'index.txt'), '');
    const cnf =
      '[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nnew_certs_dir=.\npolicy=p\ndefault_md=sha256\nrand_serial=yes\n[p]\ncommonName=supplied\n';
    fs.writeFileSync(path.join(d, 'ca.cnf'), cnf);
    sh([
      'ca',
      '-batch',
      '-config',
      'ca.cnf',
      '-cert',
      'ca.crt',
      '-keyfile',
      'ca.key',
      '-in',
      'csr.pem',
      '-out',
      'cert.pem',
      '-startdate',
      start,
      '-enddate',
      end,
      '-notext',
    ]);
    return { cert: path.join(d, 'cert.pem'), key: path.join(d, 'key.pem') };
  };

  test('bad certificates and TRUST_PROXY stop start-up naming the variable, before anything starts', async () => {
    const good = makeCert('good', '20200101000000Z', '20991231000000Z');
    const other = makeCert('other', '20200101000000Z', '20991231000000Z');
    const expired = makeCert('expired', '20200101000000Z', '20200201000000Z');
    const common = {
      DATA_DIR: path.join(dir, 'data'),
      HOST: '127.0.0.1',
      PORT: '0',
      PUBLIC_URL: 'https://127.0.0.1:3443',
    };
    const cases: [Record<string, string>, RegExp][] = [
      [
        { TLS_CERT: good.cert, TLS_KEY: other.key },
        /TLS_KEY: .*key\.pem does not match the certificate in .*cert\.pem/,
      ],
      [
        { TLS_CERT: expired.cert, TLS_KEY: expired.key },
        /TLS_CERT: the certificate in .* expired on Feb +1 00:00:00 2020 GMT/,
      ],
      [{ TLS_CERT: path.join(dir, 'missing.pem'), TLS_KEY: good.key }, /TLS_CERT: file not found: .*missing\.pem/],
      [{ TLS_CERT: good.cert }, /TLS_KEY: TLS_CERT and TLS_KEY go together/],
      [
        { TRUST_PROXY: '10.0.0.300' },
        /TRUST_PROXY: not a hop count \(0-10\), and the list must be IP addresses or networks/,
      ],
      [{ TRUST_PROXY: '99' }, /TRUST_PROXY: a hop count must be 0-10/],
    ];
    for (const [env, message] of cases) {
      const m = startMain({ ...common, ...env });
      expect(await m.exited).toBe(2);
      expect(m.out()).toMatch(message);
      // Nothing was started: no Redis data, no listening line.
      expect(fs.existsSync(path.join(dir, 'data', 'redis'))).toBe(false);
      expect(m.out()).not.toMatch(/listening|is running/);
    }
  }, 90_000);

  test('SIGHUP reloads TLS_CERT and TLS_KEY without a restart; a bad pair keeps the old one', async () => {
    const first = makeCert('first', '20200101000000Z', '20991231000000Z');
    const second = makeCert('second', '20200101000000Z', '20991231000000Z');
    const cert = path.join(dir, 'served-cert.pem');
    const key = path.join(dir, 'served-key.pem');
    fs.copyFileSync(first.cert, cert);
    fs.copyFileSync(first.key, key);
    const port = await freePort();
    const m = startMain({
      DATA_DIR: path.join(dir, 'data'),
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: `https://localhost:${port}`,
      RTC_LISTEN_IP: '127.0.0.1',
      RTC_PORT: '0',
      MEDIASOUP_WORKERS: '1',
      TLS_CERT: cert,
      TLS_KEY: key,
    });
    const served = () =>
      new Promise<string>((resolve, reject) => {
        const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, servername: 'localhost' }, () => {
          resolve(s.getPeerX509Certificate()!.serialNumber);
          s.destroy();
        });
        s.once('error', reject);
      });
    const serial = (file: string) => new X509Certificate(fs.readFileSync(file)).serialNumber;
    try {
      await waitFor(() => /is running/.test(m.out()), 'the server', 30_000);
      expect(await served()).toBe(serial(first.cert));
      fs.copyFileSync(second.cert, cert);
      fs.copyFileSync(second.key, key);
      m.child.kill('SIGHUP');
      await waitFor(async () => (await served()) === serial(second.cert), 'the new certificate served', 10_000);
      // The log line comes through the pipe after the handshake may already show the new one.
      await waitFor(() => /SIGHUP: certificate reloaded/.test(m.out()), 'the reload logged', 10_000);
      fs.copyFileSync(first.key, key); // no longer the certificate's key
      m.child.kill('SIGHUP');
      await waitFor(() => /certificate not reloaded/.test(m.out()), 'the refusal', 10_000);
      expect(m.out()).toMatch(/TLS_KEY: .*does not match/);
      expect(await served()).toBe(serial(second.cert));
      m.child.kill('SIGTERM');
      expect(await m.exited).toBe(0);
    } finally {
      m.child.kill('SIGKILL');
    }
  }, 60_000);

  /** A request as a reverse proxy sends it: plain HTTP, the browser's Host, X-Forwarded-*. */
  const viaProxy = (port: number, pathname: string, headers: Record<string, string>, json?: unknown) =>
    new Promise<{ status: number; location?: string; setCookie: string[]; body: string }>((resolve, reject) => {
      const payload = json === undefined ? undefined : JSON.stringify(json);
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: pathname,
          method: payload === undefined ? 'GET' : 'POST',
          headers: payload === undefined ? headers : { ...headers, 'Content-Type': 'application/json' },
        },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () =>
            resolve({
              status: res.statusCode!,
              location: res.headers.location,
              setCookie: res.headers['set-cookie'] ?? [],
              body,
            }),
          );
        },
      );
      req.once('error', reject);
      req.end(payload);
    });

  test("TLS=proxy: plain HTTP, no local CA; through the proxy the pages, a Secure login, the point's address", async () => {
    const port = await freePort();
    const m = startMain({
      ...onLoopback(path.join(dir, 'data')),
      ...ADMIN_ENV,
      PORT: String(port),
      PUBLIC_URL: 'https://hoinghi.example.vn',
      TLS: 'proxy',
      TRUST_PROXY: '1',
    });
    try {
      await waitFor(() => /is running/.test(m.out()), 'the server', 60_000);
      expect(m.out()).toMatch(/Host console:\s+https:\/\/hoinghi\.example\.vn\/host/);
      expect(m.out()).toMatch(/HTTPS: +by the reverse proxy \(TLS=proxy\)/);
      expect(m.out()).not.toMatch(/Certificate authority/);
      expect(fs.existsSync(path.join(dir, 'data', 'tls'))).toBe(false);
      const forwarded = { Host: 'hoinghi.example.vn', 'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '198.51.100.7' };
      for (const page of ['/host', '/monitor']) {
        const res = await viaProxy(port, page, forwarded);
        expect({ page, status: res.status, location: res.location }).toEqual({
          page,
          status: 200,
          location: undefined,
        });
        expect(res.body).toMatch(/^<!doctype html>/i);
      }
      // A login through the proxy, as the browser sends it: a Secure cookie that the next
      // request carries back, and the point's own address (X-Forwarded-For from the one
      // trusted hop) in the log, not the proxy's.
      const browser = { ...forwarded, Origin: 'https://hoinghi.example.vn' };
      const login = await viaProxy(port, '/api/v1/auth/login', browser, {
        username: ADMIN_ENV.ADMIN_USERNAME,
        password: ADMIN_ENV.ADMIN_PASSWORD,
      });
      expect(login.status).toBe(200);
      expect(login.setCookie).toHaveLength(1);
      expect(login.setCookie[0]).toMatch(/; Secure/i);
      const cookie = login.setCookie[0]!.split(';')[0]!;
      const me = await viaProxy(port, '/api/v1/auth/me', { ...forwarded, Cookie: cookie });
      expect(JSON.parse(me.body)).toMatchObject({ user: { username: ADMIN_ENV.ADMIN_USERNAME } });
      const loggedIn = await waitFor(
        () =>
          m
            .out()
            .split('\n')
            .find((l) => l.includes('"msg":"logged in"')),
        'the login logged',
        10_000,
      );
      expect(JSON.parse(loggedIn)).toMatchObject({ address: '198.51.100.7' });
      // Plain HTTP straight to the port is served too (the health checks, Prometheus).
      expect((await viaProxy(port, '/readyz', {})).status).toBe(200);
      m.child.kill('SIGTERM');
      expect(await m.exited).toBe(0);
    } finally {
      m.child.kill('SIGKILL');
    }
  }, 120_000);

  test('an https PUBLIC_URL and no certificate: the banner names a plain-HTTP /ca URL that serves the CA page', async () => {
    const port = await freePort();
    const redirectPort = await freePort();
    const m = startMain({
      ...onLoopback(path.join(dir, 'data')),
      PORT: String(port),
      PUBLIC_URL: `https://127.0.0.1:${port}`,
      HTTP_REDIRECT_PORT: String(redirectPort),
    });
    try {
      const url = await waitFor(
        () => /Points install it from (\S+)/.exec(m.out())?.[1],
        'the CA line of the banner',
        60_000,
      );
      // The redirect port when there is one; PUBLIC_URL's own port answers plain HTTP too.
      expect(url).toBe(`http://127.0.0.1:${redirectPort}/ca`);
      for (const at of [url, `http://127.0.0.1:${port}/ca`]) {
        const res = await fetch(at, { redirect: 'manual' });
        expect({ at, status: res.status }).toEqual({ at, status: 200 });
        expect(await res.text()).toContain('data-testid="ca-fingerprint"');
      }
      m.child.kill('SIGTERM');
      expect(await m.exited).toBe(0);
    } finally {
      m.child.kill('SIGKILL');
    }
  }, 120_000);

  test('npm run demo: the reference briefing for the 420 points, with links and QR codes', async () => {
    const port = await freePort();
    const m = startMain(
      {
        DATA_DIR: path.join(dir, 'data'),
        HOST: '127.0.0.1',
        PORT: String(port),
        RTC_LISTEN_IP: '127.0.0.1',
        RTC_PORT: '0',
        MEDIASOUP_WORKERS: '1',
      },
      'npm run demo',
    );
    try {
      await waitFor(() => /Every point's link/.test(m.out()), 'the demo briefing', 60_000);
      const out = m.out();
      expect(out).toContain(`Demo briefing: ${REFERENCE_TITLE}`);
      expect(out).toMatch(/420 points invited, state lobby/);
      const agenda = out.split('\n').filter((l) => /^ {2}\d\. /.test(l));
      expect(agenda).toEqual([
        '  1. Quán triệt Nghị quyết 05-NQ/TU về chuyển đổi số: Lê Ngọc Châu',
        '  2. Quán triệt Nghị quyết 06-NQ/TU về tích tụ ruộng đất: Đặng Ngọc Sơn',
        '  3. Quán triệt Nghị quyết 08-NQ/TU về phát triển doanh nghiệp: Nguyễn Hồng Lĩnh',
        '  4. Quán triệt Nghị quyết 09-NQ/TU về Khu Kinh tế Vũng Áng: Nguyễn Hồng Lĩnh',
        '  5. Phát biểu kết luận hội nghị: Trần Thế Dũng',
      ]);
      expect(out).toMatch(new RegExp(`Host console .*: http://127\\.0\\.0\\.1:${port}/host`));
      const points = out
        .split('\n')
        .filter((l) => /^Point HT-[A-Z0-9-]+ \(.+\): http:\/\/127\.0\.0\.1:\d+\/join\//.test(l));
      expect(points).toHaveLength(3);
      // A QR code drawn with block characters after each link.
      expect(out.match(/[▄▀█]{7}/g)!.length).toBeGreaterThan(5);
      m.child.kill('SIGTERM');
      expect(await m.exited).toBe(0);
    } finally {
      // npm and the server under it: the whole group.
      if (m.child.exitCode === null) process.kill(-m.child.pid!, 'SIGKILL');
    }
  }, 90_000);
});
