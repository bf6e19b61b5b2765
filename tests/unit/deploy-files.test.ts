// The image and compose files cannot be built here (no Docker engine on these machines);
// what keeps them safe is checked as text.
import fs from 'node:fs';
import path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (f: string) => fs.readFileSync(path.join(ROOT, f), 'utf8');

/** The lines of one top-level service of docker-compose.yml (two-space indented blocks). */
function serviceBlock(compose: string, name: string): string {
  const lines = compose.split('\n');
  const start = lines.findIndex((l) => l === `  ${name}:`);
  expect(start).toBeGreaterThan(0);
  const end = lines.findIndex((l, i) => i > start && /^ {2}\S|^\S/.test(l));
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

describe('deployment files', () => {
  test('the image context leaves out history, local data, environment files and build output', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(ignored).toEqual(
      expect.arrayContaining(['.git', 'data/', '**/.env', '**/.env.*', 'node_modules/', 'build/']),
    );
    // The shipped registry (server/data) is still in.
    expect(ignored).not.toContain('**/data');
  });

  test('the server runs as an unprivileged user, writing only to its data folder', () => {
    const stages = read('Dockerfile').split(/^FROM /m);
    const last = stages[stages.length - 1]!;
    const users = [...last.matchAll(/^USER\s+(\S+)/gm)].map((m) => m[1]);
    expect(users.length).toBeGreaterThan(0);
    expect(['root', '0', '0:0']).not.toContain(users[users.length - 1]);
    expect(last.indexOf('USER')).toBeLessThan(last.indexOf('CMD'));
    expect(last).toMatch(/chown node:node \/app\/data/);
  });

  test('compose: Redis asks for a password, sits on an internal network only, and every server uses the password', () => {
    const compose = read('docker-compose.yml');
    const redis = serviceBlock(compose, 'redis');
    expect(redis).toMatch(/--requirepass/);
    expect(redis).toMatch(/\$\{REDIS_PASSWORD:\?/);
    expect(redis).toMatch(/networks: \[store\]/);
    expect(redis).not.toMatch(/^\s+ports:/m);
    expect(compose).toMatch(/^ {2}store:\n {4}internal: true/m);
    const urls = [...compose.matchAll(/REDIS_URL: (\S+)/g)].map((m) => m[1]);
    expect(urls.length).toBeGreaterThanOrEqual(2);
    for (const url of urls) expect(url).toBe('redis://:${REDIS_PASSWORD}@redis:6379');
    // The load balancer does not reach Redis.
    expect(serviceBlock(compose, 'lb')).not.toMatch(/store/);
  });
});
