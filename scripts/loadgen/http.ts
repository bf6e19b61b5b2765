// HTTP helpers of the load generator: node:http, so each point's phones can come from
// their own address and connection pool.
import dgram from 'node:dgram';
import http from 'node:http';
import net from 'node:net';

export interface HttpResult<T = unknown> {
  status: number;
  body: T;
  ms: number;
  headers: http.IncomingHttpHeaders;
}

type HttpOptions = { method?: string; body?: unknown; cookie?: string; agent?: http.Agent; timeoutMs?: number };

/**
 * One JSON request. A request sent on a kept-alive connection that the server closed
 * meanwhile (reset before any answer) is sent once more on a new one, as browsers do:
 * a connection of its own, from the agent's local address, not one of the agent's pool
 * (whose other idle connections may have been closed by the server just as well).
 */
export function httpJson<T = unknown>(url: string, opts: HttpOptions = {}): Promise<HttpResult<T>> {
  const t0 = performance.now();
  return requestOnce<T>(url, opts, t0).catch((err: unknown) => {
    if (!(err instanceof StaleSocketError)) throw err;
    return requestOnce<T>(url, opts, t0, freshConnection(opts.agent));
  });
}

/** A request's own connection: no agent's pool, the agent's local address and family kept. */
function freshConnection(agent: http.Agent | undefined): http.RequestOptions {
  // node:http keeps an agent's constructor options on it (not in its typings).
  const o = (agent as (http.Agent & { options?: http.AgentOptions }) | undefined)?.options;
  return {
    agent: false,
    ...(o?.localAddress ? { localAddress: o.localAddress } : {}),
    ...(o?.family ? { family: o.family } : {}),
  };
}

/** A reused connection that was reset before the answer began. */
class StaleSocketError extends Error {}

function requestOnce<T>(
  url: string,
  opts: HttpOptions,
  t0: number,
  connection: http.RequestOptions = { agent: opts.agent },
): Promise<HttpResult<T>> {
  return new Promise((resolve, reject) => {
    const payload = opts.body === undefined ? undefined : Buffer.from(JSON.stringify(opts.body));
    const req = http.request(
      url,
      {
        method: opts.method ?? 'GET',
        ...connection,
        headers: {
          accept: 'application/json',
          ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          ...(opts.cookie ? { cookie: opts.cookie } : {}),
        },
        timeout: opts.timeoutMs ?? 30_000,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          let body: unknown = text;
          try {
            body = text ? JSON.parse(text) : undefined;
          } catch {
            // not JSON (metrics)
          }
          resolve({ status: res.statusCode ?? 0, body: body as T, ms: performance.now() - t0, headers: res.headers });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`timeout ${url}`)));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const stale = req.reusedSocket && err.code === 'ECONNRESET';
      reject(stale ? new StaleSocketError(err.message, { cause: err }) : err);
    });
    if (payload) req.write(payload);
    req.end();
  });
}

export async function must<T>(p: Promise<HttpResult<T>>, what: string, ok = [200, 201]): Promise<HttpResult<T>> {
  const r = await p;
  if (!ok.includes(r.status)) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)}`);
  return r;
}

/** A TCP port free on loopback a moment ago (whoever asked binds it next). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** A UDP port free on loopback a moment ago. */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
