// The image and compose files cannot be built here (no Docker engine on these machines);
// what keeps them safe is checked as text.
import fs from 'node:fs';
import path from 'node:path';
import { DOCUMENT_MAX_BYTES } from '../../server/contract/documents';

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

  test('compose `monitoring`: pinned Prometheus and Grafana on loopback, scraping with the token', () => {
    const compose = read('docker-compose.yml');
    for (const name of ['prometheus', 'grafana']) {
      const block = serviceBlock(compose, name);
      expect(block).toMatch(/profiles: \[monitoring\]/);
      expect(block).toMatch(/image: [\w/-]+:v?\d+\.\d+\.\d+\n/);
      for (const port of block.matchAll(/^\s+- '([^']+)'$/gm))
        if (/:\d+$/.test(port[1]!)) expect(port[1]).toMatch(/^127\.0\.0\.1:/);
    }
    expect(serviceBlock(compose, 'app')).toMatch(/METRICS_TOKEN: \$\{METRICS_TOKEN:-\}/);
    const prom = read('deploy/prometheus/prometheus.yml');
    expect(prom).toMatch(/credentials_file: \/etc\/prometheus\/briefing-token/);
    expect(prom).toMatch(/targets: \['app:3000'\]/);
  });

  test('the Grafana dashboard reads only metrics the server exposes, through the provisioned source', () => {
    const dash = JSON.parse(read('deploy/grafana/dashboards/briefing.json')) as {
      panels: { datasource: { uid: string }; targets: { expr: string }[] }[];
    };
    const exposed = [read('server/http/metrics.ts'), read('server/http/product-metrics.ts')].join('\n');
    const source = read('deploy/grafana/provisioning/datasources/prometheus.yml');
    expect(dash.panels.length).toBeGreaterThan(5);
    for (const p of dash.panels) {
      expect(source).toContain(`uid: ${p.datasource.uid}`);
      for (const t of p.targets)
        for (const [name] of t.expr.matchAll(/\b(?:briefing|mediasoup)_[a-z_]+/g))
          expect(exposed).toContain(`'${name}'`);
    }
  });

  test('compose `production`: nginx forwards Host with its port and the client; the app trusts one hop; coturn', () => {
    const compose = read('docker-compose.yml');
    const nginx = read('deploy/nginx-production.conf');
    expect(serviceBlock(compose, 'proxy')).toMatch(/profiles: \[production\]/);
    expect(serviceBlock(compose, 'proxy')).toContain('./deploy/nginx-production.conf:/etc/nginx/conf.d/default.conf');
    // `$host` would drop the port and the same-origin check would refuse browser POSTs.
    expect(nginx).toMatch(/^\s*proxy_set_header Host \$http_host;$/m);
    expect(nginx).toMatch(/^\s*proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;$/m);
    expect(nginx).toMatch(/^\s*proxy_set_header Upgrade \$http_upgrade;$/m);
    expect(nginx).toMatch(/listen 80;\s+#[^\n]*\n\s+location \/ \{\s+return 308 https:/);
    // nginx speaks plain HTTP to the app, which therefore serves plain HTTP (TLS=proxy: no
    // local CA, no redirect to PUBLIC_URL) and believes one hop; PUBLIC_URL must be given.
    expect(nginx).toMatch(/^\s*proxy_pass http:\/\/app:3000;$/m);
    const app = serviceBlock(compose, 'app');
    expect(app).toMatch(/^\s+TLS: \$\{TLS:-proxy\}$/m);
    expect(app).toMatch(/^\s+TRUST_PROXY: \$\{TRUST_PROXY:-1\}$/m);
    expect(app).toMatch(/^\s+PUBLIC_URL: \$\{PUBLIC_URL:\?/m);
    // Trusting one hop is safe only if nothing but the proxy reaches the app's port.
    const published = [...app.matchAll(/^\s+- '([^']+):3000'$/gm)].map((m) => m[1]);
    expect(published).toEqual(['${APP_PUBLISH:-127.0.0.1:3000}']);
    for (const v of ['TRUST_PROXY', 'TURN_URLS', 'TURN_SECRET']) expect(app).toMatch(new RegExp(`${v}: \\$\\{${v}:`));
    const coturn = serviceBlock(compose, 'coturn');
    expect(coturn).toMatch(/profiles: \[turn, production\]/);
    expect(coturn).toMatch(/image: coturn\/coturn:\d+\.\d+/);
    expect(coturn).toContain('- --use-auth-secret');
    expect(coturn).toContain('- --static-auth-secret=${TURN_SECRET:?');
    expect(coturn).toMatch(/- --tls-listening-port=/);
    for (const net of ['10.0.0.0-10.255.255.255', '127.0.0.0-127.255.255.255'])
      expect(coturn).toContain(`- --denied-peer-ip=${net}`);
  });

  test('nginx lets an agenda document of the largest size through', () => {
    for (const conf of ['deploy/nginx-production.conf', 'deploy/nginx-cluster.conf']) {
      const sizes = [...read(conf).matchAll(/^\s*client_max_body_size (\d+)m;$/gm)].map((m) => Number(m[1]));
      expect({ conf, sizes: sizes.length }).toEqual({ conf, sizes: 1 });
      // The upload is multipart: the file plus its form fields.
      expect(sizes[0]! * 1024 * 1024).toBeGreaterThan(DOCUMENT_MAX_BYTES);
    }
  });
});
