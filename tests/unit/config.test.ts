import { randomBytes } from 'node:crypto';
import { ConfigError, loadConfig, type PortPrivilege } from '../../server/config';
import { mayBind443 } from '../../server/config/net';
import { isPublishedSecret } from '../../server/security/secret-strength';
import { publishedDevSecret } from '../helpers/published-secret';

function issuesOf(env: Record<string, string>): { variable: string; message: string }[] {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected loadConfig to throw');
}

describe('config', () => {
  test('development defaults are usable', () => {
    const c = loadConfig({});
    expect(c.port).toBe(3000);
    expect(c.redisUrl).toBeUndefined();
    expect(c.rtc.announcedIp).toBe('127.0.0.1');
    expect(c.mediasoup.numWorkers).toBeGreaterThanOrEqual(1);
    expect(c.mediasoup.bweTickMs).toBe(5);
    expect(loadConfig({ MEDIASOUP_BWE_TICK_MS: '25' }).mediasoup.bweTickMs).toBe(25);
    expect(c.mediasoup.keyFrameRequestDelayMs).toBe(1000);
    expect(c.mediasoup.udpRecvBufferBytes).toBe(0);
    expect(loadConfig({ MEDIASOUP_UDP_RECV_BUFFER: '4194304' }).mediasoup.udpRecvBufferBytes).toBe(4_194_304);
    expect(loadConfig({ KEY_FRAME_REQUEST_DELAY_MS: '500' }).mediasoup.keyFrameRequestDelayMs).toBe(500);
    // No built-in secret: the server generates one in DATA_DIR (server/security/app-secret.ts).
    expect(c.appSecret).toBeUndefined();
    expect(c.metrics).toEqual({ token: undefined, allow: ['loopback'] });
    expect(c.sockets.maxPerAddress).toBeGreaterThanOrEqual(420 * 2);
  });

  test.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ RTC_LISTEN_IP: '999.1.1.1' }, 'RTC_LISTEN_IP'],
    [{ RTC_PORT: '80' }, 'RTC_PORT'],
    [{ MEDIASOUP_WORKERS: '0' }, 'MEDIASOUP_WORKERS'],
    [{ MEDIASOUP_BWE_TICK_MS: '4' }, 'MEDIASOUP_BWE_TICK_MS'],
    [{ MEDIASOUP_BWE_TICK_MS: '26' }, 'MEDIASOUP_BWE_TICK_MS'],
    [{ MEDIASOUP_BWE_TICK_MS: '12.5' }, 'MEDIASOUP_BWE_TICK_MS'],
    [{ MEDIASOUP_UDP_RECV_BUFFER: '1000' }, 'MEDIASOUP_UDP_RECV_BUFFER'],
    [{ MEDIASOUP_UDP_RECV_BUFFER: '4MB' }, 'MEDIASOUP_UDP_RECV_BUFFER'],
    [{ MEDIASOUP_UDP_RECV_BUFFER: '300000000' }, 'MEDIASOUP_UDP_RECV_BUFFER'],
    [{ KEY_FRAME_REQUEST_DELAY_MS: '0' }, 'KEY_FRAME_REQUEST_DELAY_MS'],
    [{ KEY_FRAME_REQUEST_DELAY_MS: '6000' }, 'KEY_FRAME_REQUEST_DELAY_MS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ APP_SECRET: 'short' }, 'APP_SECRET'],
    [{ NODE_ROLE: 'edge' }, 'APP_SECRET'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
    [{ METRICS_ALLOW: '10.0.0.0/99' }, 'METRICS_ALLOW'],
    [{ METRICS_ALLOW: 'example.org' }, 'METRICS_ALLOW'],
    [{ SOCKET_MAX_PER_ADDRESS: '0' }, 'SOCKET_MAX_PER_ADDRESS'],
    [{ ADMIN_USERNAME: 'admin' }, 'ADMIN_PASSWORD'],
    [{ ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD'],
    [{ TLS_CERT: '/etc/briefing/cert.pem' }, 'TLS_KEY'],
    [{ TLS_KEY: '/etc/briefing/key.pem' }, 'TLS_CERT'],
    [{ TLS_CERT: 'c.pem', TLS_KEY: 'k.pem', PUBLIC_URL: 'http://x.vn' }, 'PUBLIC_URL'],
    [{ TLS: 'off' }, 'TLS'],
    [{ TLS: 'proxy' }, 'PUBLIC_URL'],
    [{ TLS: 'proxy', PUBLIC_URL: 'http://x.vn' }, 'PUBLIC_URL'],
    [{ TLS: 'proxy', PUBLIC_URL: 'https://x.vn', TLS_CERT: 'c.pem', TLS_KEY: 'k.pem' }, 'TLS_CERT'],
    [{ TLS: 'proxy', PUBLIC_URL: 'https://x.vn', HTTP_REDIRECT_PORT: '80' }, 'HTTP_REDIRECT_PORT'],
    [{ TLS: 'proxy', PUBLIC_URL: 'https://x.vn', TURN: 'embedded' }, 'TURN'],
    [{ TRUST_PROXY: '11' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: 'nginx' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.1/33' }, 'TRUST_PROXY'],
    [{ TRUST_PROXY: '10.0.0.1,300.1.1.1' }, 'TRUST_PROXY'],
    [{ TURN: 'yes' }, 'TURN'],
    [{ TURN_URLS: 'turn:relay.vn:3478' }, 'TURN_SECRET'],
    [{ TURN_URLS: 'http://relay.vn', TURN_SECRET: 'x'.repeat(32) }, 'TURN_URLS'],
    [{ TURN_URLS: 'turn:relay.vn:3478', TURN_SECRET: 'short' }, 'TURN_SECRET'],
    [{ TURN_URLS: 'turn:relay.vn:3478', TURN_SECRET: 'x'.repeat(32), TURN: 'embedded' }, 'TURN'],
    [{ TURN_RELAY_PORTS: '50000-40000' }, 'TURN_RELAY_PORTS'],
    [{ TURN_CREDENTIAL_TTL: '5' }, 'TURN_CREDENTIAL_TTL'],
  ])('rejects %j naming %s', (env, variable) => {
    const issues = issuesOf(env as Record<string, string>);
    expect(issues.map((i) => i.variable)).toContain(variable);
  });

  test('TRUST_PROXY: a hop count or a list of proxies; loopback by default', () => {
    expect(loadConfig({}).net.trustProxy).toEqual(['loopback']);
    expect(loadConfig({ TRUST_PROXY: '1' }).net.trustProxy).toBe(1);
    expect(loadConfig({ TRUST_PROXY: '10.0.0.2, 172.28.0.0/24,loopback' }).net.trustProxy).toEqual([
      '10.0.0.2',
      '172.28.0.0/24',
      'loopback',
    ]);
    expect(loadConfig({ TRUST_PROXY: '2001:db8::1/64' }).net.trustProxy).toEqual(['2001:db8::1/64']);
  });

  test('TLS: auto by default (HTTPS from the server, a local CA without TLS_CERT); proxy: plain HTTP, no CA', () => {
    const auto = loadConfig({ PUBLIC_URL: 'https://x.vn' }).net;
    expect(auto).toMatchObject({ tlsMode: 'auto', localCa: true, tls: undefined });
    const proxy = loadConfig({ TLS: 'proxy', PUBLIC_URL: 'https://x.vn', TRUST_PROXY: '1' }).net;
    expect(proxy).toMatchObject({ tlsMode: 'proxy', localCa: false, tls: undefined, trustProxy: 1 });
    // The refusals name both variables and what to do.
    expect(issuesOf({ TLS: 'proxy', PUBLIC_URL: 'http://x.vn' })).toEqual([
      { variable: 'PUBLIC_URL', message: expect.stringMatching(/https:\/\/ with TLS=proxy/) },
    ]);
    expect(issuesOf({ TLS: 'proxy', PUBLIC_URL: 'https://x.vn', TLS_CERT: 'c.pem', TLS_KEY: 'k.pem' })).toEqual([
      { variable: 'TLS_CERT', message: expect.stringMatching(/unset with TLS=proxy.*TLS=auto/) },
    ]);
    // A redirect port would be ignored (there is no HTTPS here to redirect to).
    expect(issuesOf({ TLS: 'proxy', PUBLIC_URL: 'https://x.vn', HTTP_REDIRECT_PORT: '80' })).toEqual([
      { variable: 'HTTP_REDIRECT_PORT', message: expect.stringMatching(/unset with TLS=proxy/) },
    ]);
    // The embedded relay's certificate would come from a local CA that no page offers.
    expect(issuesOf({ TLS: 'proxy', PUBLIC_URL: 'https://x.vn', TURN: 'embedded' })).toEqual([
      {
        variable: 'TURN',
        message: expect.stringMatching(/with TLS=proxy.*its own certificate: TURN_URLS and TURN_SECRET/),
      },
    ]);
    expect(
      loadConfig({
        TLS: 'proxy',
        PUBLIC_URL: 'https://x.vn',
        TURN_URLS: 'turns:relay.vn:443',
        TURN_SECRET: 'x'.repeat(32),
      }).net.turn.mode,
    ).toBe('external');
  });

  test('TURN: off by default; embedded takes TLS on 443 unless the web server holds it; external needs its secret', () => {
    expect(loadConfig({}).net.turn.mode).toBe('off');
    expect(loadConfig({ TURN: 'embedded' }).net.turn).toMatchObject({ mode: 'embedded', port: 3478, tlsPort: 443 });
    expect(loadConfig({ TURN: 'embedded', PORT: '443' }).net.turn.tlsPort).toBe(5349);
    expect(loadConfig({ TURN: 'embedded', PORT: '443', TURN_LISTEN_IP: '10.0.0.6' }).net.turn.tlsPort).toBe(443);
    expect(loadConfig({ TURN: 'embedded' }).net.turn.tlsPortWarning).toBeUndefined();
    const ext = loadConfig({
      TURN_URLS: 'turn:relay.vn:3478?transport=udp,turns:relay.vn:443',
      TURN_SECRET: 's'.repeat(40),
    });
    expect(ext.net.turn).toMatchObject({
      mode: 'external',
      urls: ['turn:relay.vn:3478?transport=udp', 'turns:relay.vn:443'],
    });
  });

  test('TURN_TLS_PORT defaults to 5349 with one warning when the process may not bind 443', () => {
    const user = { uid: 1000, unprivilegedPortStart: 1024, ambientBindService: false };
    const turn = (env: Record<string, string>, privilege: PortPrivilege = user) => loadConfig(env, privilege).net.turn;
    expect(turn({ TURN: 'embedded', PORT: '8443' })).toMatchObject({
      tlsPort: 5349,
      tlsPortWarning: expect.stringMatching(/only TCP 443 .*root.*CAP_NET_BIND_SERVICE.*TURN_TLS_PORT=443/),
    });
    // Root, an ambient CAP_NET_BIND_SERVICE (coturn inherits it), or a kernel that lets anyone
    // bind 443: 443.
    const with443 = (p: Partial<PortPrivilege>) => turn({ TURN: 'embedded', PORT: '8443' }, { ...user, ...p }).tlsPort;
    expect(with443({ uid: 0 })).toBe(443);
    expect(with443({ ambientBindService: true })).toBe(443);
    expect(with443({ unprivilegedPortStart: 443 })).toBe(443);
    expect(with443({ unprivilegedPortStart: 0 })).toBe(443);
    expect(with443({ unprivilegedPortStart: 444 })).toBe(5349);
    expect(with443({ unprivilegedPortStart: undefined })).toBe(5349);
    // Given: taken as it is, no warning; no relay: nothing to warn about.
    expect(turn({ TURN: 'embedded', PORT: '8443', TURN_TLS_PORT: '443' })).toMatchObject({
      tlsPort: 443,
      tlsPortWarning: undefined,
    });
    expect(turn({ PORT: '8443' }).tlsPortWarning).toBeUndefined();
    // The web server on 443: 5349 whoever runs it, and nothing lost by it.
    expect(turn({ TURN: 'embedded', PORT: '443' })).toMatchObject({ tlsPort: 5349, tlsPortWarning: undefined });
    expect(mayBind443({ uid: undefined, unprivilegedPortStart: undefined, ambientBindService: false })).toBe(true);
  });

  test('the message names every bad variable', () => {
    try {
      loadConfig({ PORT: 'x', LOG_LEVEL: 'y' });
      throw new Error('expected a ConfigError');
    } catch (err) {
      expect((err as Error).message).toMatch(/PORT: /);
      expect((err as Error).message).toMatch(/LOG_LEVEL: /);
    }
  });

  test('production refuses guessable secrets and a missing announced IP', () => {
    const prod = { NODE_ENV: 'production', RTC_ANNOUNCED_IP: '203.0.113.7' };
    expect(issuesOf({ NODE_ENV: 'production' }).map((i) => i.variable)).toEqual(['RTC_ANNOUNCED_IP']);
    for (const weak of [
      'x'.repeat(40),
      'abcdefghijklmnopqrstuvwxyz0123456789',
      'passwordpasswordpasswordpassword',
      'briefing-briefing-briefing-briefing',
      '0123456789012345678901234567890123456789',
    ]) {
      expect(issuesOf({ ...prod, APP_SECRET: weak }).map((i) => i.variable)).toEqual(['APP_SECRET']);
      expect(issuesOf({ ...prod, METRICS_TOKEN: weak }).map((i) => i.variable)).toEqual(['METRICS_TOKEN']);
      // Whoever guesses the TURN secret mints relay credentials for anyone.
      expect(issuesOf({ ...prod, TURN_URLS: 'turn:relay.vn:3478', TURN_SECRET: weak }).map((i) => i.variable)).toEqual([
        'TURN_SECRET',
      ]);
      // Outside production only the length (and published values) count.
      expect(loadConfig({ APP_SECRET: weak }).appSecret).toBe(weak);
    }
    const strong = randomBytes(16).toString('hex');
    expect(loadConfig({ ...prod, APP_SECRET: strong }).appSecret).toBe(strong);
    expect(loadConfig({ ...prod, APP_SECRET: randomBytes(32).toString('base64') }).rtc.announcedIp).toBe('203.0.113.7');
  });

  test('a secret published in the repository history is refused in every mode', () => {
    const old = publishedDevSecret();
    expect(isPublishedSecret(old)).toBe(true);
    for (const NODE_ENV of ['development', 'test', 'production']) {
      const issues = issuesOf({ NODE_ENV, APP_SECRET: old, RTC_ANNOUNCED_IP: '203.0.113.7' });
      expect(issues).toEqual([{ variable: 'APP_SECRET', message: expect.stringMatching(/published/) }]);
    }
  });

  test('a cluster node needs APP_SECRET (all nodes share it); one process can do without', () => {
    expect(issuesOf({ NODE_ROLE: 'origin' })[0]?.message).toMatch(/every node of a cluster/);
    expect(loadConfig({ NODE_ROLE: 'origin', APP_SECRET: randomBytes(32).toString('hex') }).cluster.role).toBe(
      'origin',
    );
  });

  test('recording disk thresholds: in MB, the floor at or below the warning', () => {
    expect(loadConfig({}).recording.disk).toEqual({
      warnBytes: 2048 * 1024 * 1024,
      stopBytes: 256 * 1024 * 1024,
      everyMs: 5000,
    });
    expect(issuesOf({ RECORDING_DISK_WARN_MB: '100', RECORDING_DISK_STOP_MB: '200' })).toEqual([
      { variable: 'RECORDING_DISK_STOP_MB', message: expect.stringMatching(/at or below RECORDING_DISK_WARN_MB/) },
    ]);
    expect(issuesOf({ RECORDING_DISK_CHECK_SECONDS: '0' })[0]?.variable).toBe('RECORDING_DISK_CHECK_SECONDS');
  });

  test('ARCHIVE_JOBS: on by default except on an edge; on or off; never on an edge or without recording', () => {
    const secret = { APP_SECRET: randomBytes(32).toString('hex') };
    const jobs = (env: Record<string, string>) => loadConfig({ ...secret, ...env }).recording.archive.jobs;
    expect(jobs({})).toBe(true);
    expect(jobs({ NODE_ROLE: 'origin' })).toBe(true);
    expect(jobs({ NODE_ROLE: 'control' })).toBe(true);
    expect(jobs({ NODE_ROLE: 'edge' })).toBe(false);
    expect(jobs({ NODE_ROLE: 'origin', ARCHIVE_JOBS: 'off' })).toBe(false);
    expect(jobs({ RECORDING: 'false' })).toBe(false);
    expect(issuesOf({ ARCHIVE_JOBS: 'yes' })).toEqual([{ variable: 'ARCHIVE_JOBS', message: 'must be on or off' }]);
    expect(issuesOf({ ...secret, NODE_ROLE: 'edge', ARCHIVE_JOBS: 'on' })).toEqual([
      { variable: 'ARCHIVE_JOBS', message: expect.stringMatching(/must be off on an edge/) },
    ]);
    expect(issuesOf({ RECORDING: 'false', ARCHIVE_JOBS: 'on' })).toEqual([
      { variable: 'ARCHIVE_JOBS', message: expect.stringMatching(/needs RECORDING=true/) },
    ]);
  });

  test('SIP_CAPTION: the agenda caption for room systems, on by default; on or off', () => {
    expect(loadConfig({ SIP_PORT: '5060' }).sip?.caption).toBe(true);
    expect(loadConfig({ SIP_PORT: '5060', SIP_CAPTION: 'off' }).sip?.caption).toBe(false);
    expect(issuesOf({ SIP_PORT: '5060', SIP_CAPTION: 'no' })).toEqual([
      { variable: 'SIP_CAPTION', message: 'must be on or off' },
    ]);
  });

  test('METRICS_ALLOW takes addresses, networks and names; none empties it', () => {
    expect(loadConfig({ METRICS_ALLOW: '10.0.0.0/8, 192.0.2.7,::1,loopback' }).metrics.allow).toEqual([
      '10.0.0.0/8',
      '192.0.2.7',
      '::1',
      'loopback',
    ]);
    expect(loadConfig({ METRICS_ALLOW: 'none' }).metrics.allow).toEqual([]);
  });

  test('empty strings count as unset', () => {
    expect(loadConfig({ REDIS_URL: '', PORT: '' }).port).toBe(3000);
  });
});
