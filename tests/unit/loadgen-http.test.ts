// The load generator's JSON requests over kept-alive connections: a connection the server
// closes between two requests (its keep-alive timeout racing the next request) is reset
// under the second one; the request is sent again on a new connection, as a browser
// does (one of its own, not another idle one of the pool, which may be as stale), and any
// other failure is the caller's.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpJson } from '../../scripts/loadgen/http';

/** A server that answers each connection's first request and resets it at its second. */
async function resettingServer(): Promise<{
  url: string;
  connections: () => number;
  answeredFrom: string[];
  close: () => Promise<void>;
}> {
  let connections = 0;
  const answeredFrom: string[] = [];
  const served = new WeakMap<object, number>();
  const server = http.createServer((req, res) => {
    const before = served.get(req.socket) ?? 0;
    served.set(req.socket, before + 1);
    if (before > 0) {
      req.socket.resetAndDestroy();
      return;
    }
    answeredFrom.push(req.socket.remoteAddress ?? '');
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ ok: true, path: req.url }));
  });
  server.on('connection', () => (connections += 1));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    answeredFrom,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

test('a request on a kept-alive connection reset before its answer is sent again on a new one', async () => {
  const server = await resettingServer();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const first = await httpJson<{ path: string }>(`${server.url}/a`, { method: 'POST', body: { n: 1 }, agent });
    expect(first.body.path).toBe('/a');
    const second = await httpJson<{ path: string }>(`${server.url}/b`, { method: 'POST', body: { n: 2 }, agent });
    expect(second.status).toBe(200);
    expect(second.body.path).toBe('/b');
    expect(server.connections()).toBe(2);
  } finally {
    agent.destroy();
    await server.close();
  }
});

test('the request sent again takes a connection of its own, not another idle one of the pool', async () => {
  const server = await resettingServer();
  // Two idle connections in the pool, both reset at their next request; the agent's local
  // address (a point's own) is kept by the connection of its own.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 2, localAddress: '127.0.0.2' });
  const idle = () => Object.values(agent.freeSockets).flat().length;
  try {
    await Promise.all(['/a', '/b'].map((p) => httpJson(`${server.url}${p}`, { agent })));
    expect(idle()).toBe(2);
    const again = await httpJson<{ path: string }>(`${server.url}/c`, { method: 'POST', body: { n: 3 }, agent });
    expect(again.status).toBe(200);
    expect(again.body.path).toBe('/c');
    expect(server.connections()).toBe(3);
    // The other stale connection is still idle in the pool, and the new one not added to it.
    expect(idle()).toBe(1);
    expect(server.answeredFrom).toEqual(['127.0.0.2', '127.0.0.2', '127.0.0.2']);
  } finally {
    agent.destroy();
    await server.close();
  }
});

test('a reset on a new connection is not retried', async () => {
  let requests = 0;
  const server = http.createServer((req) => {
    requests += 1;
    req.socket.resetAndDestroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  try {
    await expect(httpJson(`http://127.0.0.1:${port}/x`, { method: 'POST', body: {} })).rejects.toThrow();
    expect(requests).toBe(1);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
