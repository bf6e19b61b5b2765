import { ConfigError, DEV_APP_SECRET, loadConfig } from '../../server/config';

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
    expect(c.appSecret).toBe(DEV_APP_SECRET);
  });

  test.each([
    [{ PORT: 'eighty' }, 'PORT'],
    [{ PORT: '70000' }, 'PORT'],
    [{ REDIS_URL: 'http://localhost:6379' }, 'REDIS_URL'],
    [{ PUBLIC_URL: 'not a url' }, 'PUBLIC_URL'],
    [{ RTC_LISTEN_IP: '999.1.1.1' }, 'RTC_LISTEN_IP'],
    [{ RTC_PORT: '80' }, 'RTC_PORT'],
    [{ MEDIASOUP_WORKERS: '0' }, 'MEDIASOUP_WORKERS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ APP_SECRET: 'short' }, 'APP_SECRET'],
    [{ ADMIN_USERNAME: 'admin' }, 'ADMIN_PASSWORD'],
    [{ ADMIN_USERNAME: 'admin', ADMIN_PASSWORD: 'short' }, 'ADMIN_PASSWORD'],
  ])('rejects %j naming %s', (env, variable) => {
    const issues = issuesOf(env as Record<string, string>);
    expect(issues.map((i) => i.variable)).toContain(variable);
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

  test('production refuses the development secret and a missing announced IP', () => {
    const vars = issuesOf({ NODE_ENV: 'production' }).map((i) => i.variable);
    expect(vars).toEqual(expect.arrayContaining(['APP_SECRET', 'RTC_ANNOUNCED_IP']));
    const ok = loadConfig({ NODE_ENV: 'production', APP_SECRET: 'x'.repeat(40), RTC_ANNOUNCED_IP: '203.0.113.7' });
    expect(ok.rtc.announcedIp).toBe('203.0.113.7');
  });

  test('empty strings count as unset', () => {
    expect(loadConfig({ REDIS_URL: '', PORT: '' }).port).toBe(3000);
  });
});
