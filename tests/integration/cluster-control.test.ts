// Scale-out, the control side on loopback: an origin (the host), an edge (points) and a
// control server, three processes on one Redis. A control node runs no media; a point
// page's `?home=` is followed only to a node the cluster vouches for; raised hands,
// the host's numbers and the floor reach across nodes.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import request from 'supertest';
import { io as connectIo, type Socket } from 'socket.io-client';
import {
  ADMIN_ENV,
  connectSocket,
  handshake,
  login,
  prepareBriefing,
  type PreparedBriefing,
} from '../helpers/briefing';
import { ok, PointClient, startNode, type NodeProcess } from '../helpers/cluster';
import { forge } from '../helpers/forge';
import { TEST_APP_SECRET, waitFor } from '../helpers/orchestrator';
import { publishedDevSecret } from '../helpers/published-secret';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import { vouchedHome } from '../../client/src/point/cluster';
import type { NodeInfo } from '../../server/contract/cluster';

jest.setTimeout(180_000);

/** Command lines of the processes whose parent is `pid` (from /proc). */
function childCommands(pid: number): string[] {
  const out: string[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name, in parentheses, may hold spaces: the fields after it are fixed.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(readFileSync(`/proc/${entry}/cmdline`, 'utf8').replace(/\0/g, ' '));
    } catch {
      /* the process ended meanwhile */
    }
  }
  return out;
}

type Hand = { pointId: string };
type Numbers = { connected: number; receivingVideo: number };

describe('the control side of several nodes: origin, edge, control server', () => {
  let r: TestRedis;
  let origin: NodeProcess;
  let edge: NodeProcess;
  let control: NodeProcess;
  let cookie: string;
  let b: PreparedBriefing;
  let host: Socket;
  /** P1 on the edge (as assigned), P2 on the origin, P3 invited but never connected. */
  let p1: PointClient;
  let p2: PointClient;
  let absentId: string;
  let hands: Hand[] = [];
  const sockets: Socket[] = [];

  beforeAll(async () => {
    r = await startTestRedis();
    const common = { REDIS_URL: r.url, ...ADMIN_ENV };
    origin = await startNode('origin-1', { ...common, NODE_ROLE: 'origin' });
    [edge, control] = await Promise.all([
      startNode('edge-a', { ...common, NODE_ROLE: 'edge' }),
      // MEDIASOUP_WORKERS is ignored for a control node.
      startNode('control-1', { ...common, NODE_ROLE: 'control', MEDIASOUP_WORKERS: '2' }),
    ]);
    cookie = await login(control.url);
    await waitFor(
      async () => {
        const res = await request(control.url).get('/cluster/v1/nodes').set('Cookie', cookie);
        return (res.body as NodeInfo[]).length === 3;
      },
      'three nodes registered',
      15_000,
    );
  });

  afterAll(async () => {
    for (const s of [host, p1?.socket, p2?.socket, ...sockets]) s?.close();
    await Promise.all([origin, edge, control].filter(Boolean).map((n) => n.stop()));
    await r?.cleanup();
  });

  test('a control node starts no mediasoup worker, and is ready with correct metrics', async () => {
    const workerChildren = (pid: number) => childCommands(pid).filter((c) => c.includes('mediasoup-worker'));
    // The same check finds the origin's worker: it would find one on the control node.
    expect(workerChildren(origin.child.pid!)).toHaveLength(1);
    expect(workerChildren(control.child.pid!)).toEqual([]);

    const ready = await request(control.url).get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body).toEqual({ status: 'ready', checks: { redis: 'ok', mediasoup: 'ok' } });
    const metrics = (await request(control.url).get('/metrics').expect(200)).text;
    expect(metrics).toMatch(/^mediasoup_workers_alive 0$/m);
    expect(metrics).toMatch(/^mediasoup_workers_configured 0$/m);
    expect(metrics).not.toMatch(/^mediasoup_worker_deaths\{/m);
    const nodes = (await request(control.url).get('/cluster/v1/nodes').set('Cookie', cookie)).body as NodeInfo[];
    expect(nodes.find((n) => n.id === 'control-1')!.load.workers).toBe(0);
    expect(nodes.find((n) => n.id === 'origin-1')!.load.workers).toBe(1);
  });

  test('a registry entry not signed by the cluster is no node; a bearer made from the published secret opens nothing', async () => {
    const redis = new Redis(r.url);
    try {
      const edgeEntry = (await redis.get('cluster:node:edge-a'))!;
      expect(edgeEntry).toMatch(/^s1\./);
      const forgedInfo = {
        ...JSON.parse(edgeEntry.slice(edgeEntry.indexOf('{'))),
        id: 'evil',
        url: 'https://evil.example',
      };
      await redis
        .multi()
        .set('cluster:node:evil', JSON.stringify(forgedInfo), 'PX', 60_000)
        // A genuine entry copied under another node's key does not verify either.
        .set('cluster:node:evil-copy', edgeEntry, 'PX', 60_000)
        .sadd('cluster:nodes', 'evil', 'evil-copy')
        .exec();
      const urls = (await request(control.url).get('/cluster/v1/node-urls').expect(200)).body.urls as string[];
      expect(urls).not.toContain('https://evil.example');
      expect(urls.sort()).toEqual([control.url, edge.url, origin.url].sort());
      const nodes = (await request(origin.url).get('/cluster/v1/nodes').set('Cookie', cookie)).body as NodeInfo[];
      expect(nodes.map((n) => n.id).sort()).toEqual(['control-1', 'edge-a', 'origin-1']);
      await redis.del('cluster:node:evil', 'cluster:node:evil-copy');
    } finally {
      redis.disconnect();
    }

    const open = (bearer: string) =>
      request(origin.url)
        .post('/cluster/v1/internal/pipe/nosuchsession/open')
        .set('Authorization', `Bearer ${bearer}`)
        .send({});
    const old = publishedDevSecret();
    for (const bearer of [forge.legacy(old).bearer, forge.derived(old).bearer]) {
      const refused = await open(bearer);
      expect(refused.status).toBe(401);
      expect(refused.body).toMatchObject({ code: 'unauthenticated', status: 401 });
    }
    // The cluster's own token passes the check (and the empty body is then refused). The
    // internal routes answer with the same problem documents as the public API.
    const bearer = forge.derived(TEST_APP_SECRET).bearer;
    const empty = await open(bearer);
    expect(empty.status).toBe(400);
    expect(empty.type).toBe('application/problem+json');
    expect(empty.body).toMatchObject({ code: 'bad_request', status: 400 });
    const gone = await request(origin.url)
      .post('/cluster/v1/internal/pipe/nosuchsession/nosuchpipe/consume')
      .set('Authorization', `Bearer ${bearer}`)
      .send({ producerId: 'p1' });
    expect(gone.status).toBe(404);
    expect(gone.type).toBe('application/problem+json');
    expect(gone.body).toMatchObject({ code: 'pipe_gone', status: 404, type: 'urn:briefing:error:pipe_gone' });
  });

  test('socket handshakes: from a registered node or the same host, yes; from another origin or to `/`, no', async () => {
    const attempt = (url: string, origin: string | undefined, ns = '/monitor') =>
      handshake(url + ns, { cookie, origin });
    expect(await attempt(control.url, edge.url)).toBe('connected');
    expect(await attempt(control.url, control.url)).toBe('connected');
    expect(await attempt(control.url, undefined)).toBe('connected');
    expect(await attempt(control.url, 'https://evil.example')).toBe('refused');
    expect(await attempt(control.url, 'null')).toBe('refused');
    expect(await attempt(edge.url, undefined, '/')).toBe('not_found');
  });

  test('a point page follows `?home=` only to a node the cluster vouches for', async () => {
    // No login: the list holds the nodes' public URLs and nothing else.
    const res = await request(edge.url).get('/cluster/v1/node-urls').expect(200);
    expect(Object.keys(res.body)).toEqual(['urls']);
    const urls = res.body.urls as string[];
    expect([...urls].sort()).toEqual([control.url, edge.url, origin.url].sort());
    expect(res.headers['cache-control']).toBe('no-store');

    // What the page on the edge does with it (client/src/point/cluster.ts).
    expect(vouchedHome(control.url, edge.url, urls)).toBe(control.url);
    expect(vouchedHome('https://evil.example.com/join/x', edge.url, urls)).toBe(edge.url);
    const port = Number(new URL(control.url).port);
    expect(vouchedHome(`http://127.0.0.1:${port + 1}`, edge.url, urls)).toBe(edge.url);
    expect(vouchedHome(`http://localhost:${port}`, edge.url, urls)).toBe(edge.url);
  });

  test('a control node refuses media with a coded error rather than a dead worker', async () => {
    const all = (await request(control.url).get('/api/v1/points?limit=500').set('Cookie', cookie).expect(200)).body
      .items as { id: string; level: string }[];
    const ids = all
      .filter((p) => p.level === 'commune')
      .slice(0, 3)
      .map((p) => p.id);
    b = await prepareBriefing(control.url, ids);
    absentId = ids[2]!;
    const hostOnControl = await connectSocket(control.url, '/host', { cookie: b.cookie });
    sockets.push(hostOnControl);
    await ok(hostOnControl, 'host:attach', { sessionId: b.sessionId });
    await expect(ok(hostOnControl, 'rtc:capabilities')).rejects.toThrow(/^rtc:capabilities: unavailable /);
    hostOnControl.close();
  });

  test('a hand raised on the edge, and one on the origin, reach the host on the origin in order', async () => {
    host = await connectSocket(origin.url, '/host', { cookie: b.cookie });
    host.on('hands', (h: Hand[]) => (hands = h));
    await ok(host, 'host:attach', { sessionId: b.sessionId });
    // The hall publishes first: the server refuses to go live without it.
    await ok(host, 'ingest:plain', {
      video: { ssrc: 33333333, payloadType: 101 },
      audio: { ssrc: 44444444, payloadType: 100 },
    });
    await ok(host, 'session:goLive');

    const token = (id: string) => b.links.find((l) => l.pointId === id)!.token;
    const [id1, id2] = b.links.map((l) => l.pointId).filter((id) => id !== absentId);
    p1 = new PointClient(id1!, token(id1!), control.url);
    await p1.connect();
    expect(p1.nodeUrl).toBe(edge.url);
    p2 = new PointClient(id2!, token(id2!), control.url);
    p2.nodeUrl = origin.url;
    p2.socket = await connectSocket(origin.url, '/point', { token: p2.token });
    for (const p of [p1, p2]) {
      await waitFor(
        async () => ((await ok(p.socket!, 'view:get')) as { state: string }).state === 'live',
        `${p.pointId} to see the briefing live`,
        15_000,
        200,
      );
    }

    expect(await ok(p1.socket!, 'hand:raise')).toEqual({ position: 1 });
    await waitFor(() => hands.length === 1 && hands[0]!.pointId === p1.pointId, "the edge point's hand", 10_000, 50);
    expect(await ok(p2.socket!, 'hand:raise')).toEqual({ position: 2 });
    await waitFor(() => hands.length === 2, 'both hands', 10_000, 50);
    expect(hands.map((h) => h.pointId)).toEqual([p1.pointId, p2.pointId]);
    // A console attaching now reads the same list.
    const attached = await ok(host, 'host:attach', { sessionId: b.sessionId });
    expect(attached.hands.map((h: Hand) => h.pointId)).toEqual([p1.pointId, p2.pointId]);

    await ok(p1.socket!, 'hand:lower');
    await waitFor(() => hands.length === 1 && hands[0]!.pointId === p2.pointId, 'the edge hand lowered', 10_000, 50);
    await ok(p2.socket!, 'hand:lower');
    await waitFor(() => hands.length === 0, 'no hands', 10_000, 50);
  });

  test("the host's agenda, slides and choice of source reach the view of points on the edge", async () => {
    type View = { caption: { index: number } | null; slidesOn: boolean; hall: { choice: string } };
    await ok(host, 'agenda:go', { index: 2 });
    await ok(host, 'slides:set', { on: true });
    await ok(host, 'hall:source', { source: 'console' });
    for (const [where, p] of [
      ['origin', p2],
      ['edge', p1],
    ] as const) {
      let v: View | undefined;
      await waitFor(
        async () => {
          v = (await ok(p.socket!, 'view:get')) as View;
          return v.caption?.index === 2 && v.slidesOn && v.hall.choice === 'console';
        },
        `the ${where} point's view to follow the host`,
        10_000,
        100,
      ).catch((err: unknown) => {
        const { caption, slidesOn, hall } = v ?? {};
        throw new Error(`${String(err)}; last view: ${JSON.stringify({ caption, slidesOn, hall })}`);
      });
    }
    await ok(host, 'hall:source', { source: 'auto' });
    await ok(host, 'slides:set', { on: false });
    await ok(host, 'agenda:go', { index: 0 });
  });

  test("the host's numbers count the points connected and receiving video on every node", async () => {
    const numbers = async (): Promise<Numbers> =>
      (await ok(host, 'host:attach', { sessionId: b.sessionId })).numbers as Numbers;
    // Only the edge's point receives: the origin itself has none.
    await p1.receiveHall();
    const one = await waitFor(
      async () => {
        const n = await numbers();
        return n.connected === 2 && n.receivingVideo === 1 ? n : undefined;
      },
      'the edge point counted as receiving video',
      15_000,
      250,
    );
    expect(one).toMatchObject({ connected: 2, receivingVideo: 1 });
    await p2.receiveHall();
    await waitFor(async () => (await numbers()).receivingVideo === 2, 'both points receiving video', 15_000, 250);
  });

  test("the host's grant reaches the edge point's node, which gives it the floor there", async () => {
    await ok(p1.socket!, 'hand:raise');
    await waitFor(() => hands.some((h) => h.pointId === p1.pointId), 'the hand up', 10_000, 50);
    const floor = (s: Socket) =>
      new Promise<boolean>((resolve) => s.once('floor:you', (f: { granted: boolean }) => resolve(f.granted)));

    let told = floor(p1.socket!);
    const view = await ok(host, 'floor:grant', { pointId: p1.pointId });
    expect(view.floor.pointId).toBe(p1.pointId);
    expect(await told).toBe(true);
    // Enacted on the edge's own room: the point may now open a send transport there.
    const caps = await ok(p1.socket!, 'rtc:capabilities');
    await ok(p1.socket!, 'rtc:createTransport', { direction: 'send', rtpCapabilities: caps.routerRtpCapabilities });
    await waitFor(() => !hands.some((h) => h.pointId === p1.pointId), 'the hand lowered by the grant', 10_000, 50);

    // Giving the floor to the origin's own point takes it from the edge's.
    told = floor(p1.socket!);
    const toP2 = floor(p2.socket!);
    expect((await ok(host, 'floor:grant', { pointId: p2.pointId })).floor.pointId).toBe(p2.pointId);
    expect(await told).toBe(false);
    expect(await toP2).toBe(true);

    // Back to the edge point, then taken back by the host.
    told = floor(p1.socket!);
    await ok(host, 'floor:grant', { pointId: p1.pointId });
    expect(await told).toBe(true);
    told = floor(p1.socket!);
    expect((await ok(host, 'floor:revoke')).floor).toBeNull();
    expect(await told).toBe(false);

    // A point connected nowhere cannot take it.
    await expect(ok(host, 'floor:grant', { pointId: absentId })).rejects.toThrow(/^floor:grant: conflict /);
  });

  test('the origin adopts a floor stream from an edge only for the point holding the floor, through its node', async () => {
    const bearer = forge.derived(TEST_APP_SECRET).bearer;
    const api = (path: string) =>
      request(origin.url)
        .post(`/cluster/v1/internal/uplink/${b.sessionId}${path}`)
        .set('Authorization', `Bearer ${bearer}`);
    const pipeAs = async (edgeNodeId: string) =>
      (
        await api('/open')
          .send({
            edgeNodeId,
            endpoint: {
              ip: '127.0.0.1',
              port: 9,
              srtpParameters: { cryptoSuite: 'AEAD_AES_256_GCM', keyBase64: randomBytes(44).toString('base64') },
            },
          })
          .expect(200)
      ).body.transportId as string;
    const produce = (transportId: string, peerId: string) =>
      api(`/${transportId}/produce`).send({
        producerId: `forged-${peerId}`,
        kind: 'audio',
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: 100, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: 1234 }],
        },
        paused: false,
        source: 'floor-mic',
        peerId,
      });
    const fromEdge = await pipeAs('edge-a');
    const fromOther = await pipeAs('control-1');
    // Nobody holds the floor.
    expect((await produce(fromEdge, p1.pointId)).body.code).toBe('forbidden');
    // The origin's own point holds it: no edge speaks for it.
    await ok(host, 'floor:grant', { pointId: p2.pointId });
    expect((await produce(fromEdge, p2.pointId)).status).toBe(403);
    // The edge's point holds it: another point, or another node, is still refused.
    await ok(host, 'floor:grant', { pointId: p1.pointId });
    expect((await produce(fromEdge, p2.pointId)).status).toBe(403);
    expect((await produce(fromOther, p1.pointId)).status).toBe(403);
    await ok(host, 'floor:revoke');
    expect((await produce(fromEdge, p1.pointId)).status).toBe(403);
    const view = (await ok(host, 'host:attach', { sessionId: b.sessionId })).view;
    expect(view.floor).toBeNull();
  });

  test('an account disabled through one node loses its open sockets on every node at once', async () => {
    const admin = await login(control.url);
    const created = await request(origin.url)
      .post('/api/v1/accounts')
      .set('Cookie', admin)
      .send({ username: 'desk-tech', role: 'technician', password: 'a long enough password' })
      .expect(201);
    const tech = await login(control.url, { username: 'desk-tech', password: 'a long enough password' });
    for (const n of [origin, edge, control]) {
      const me = await request(n.url).get('/api/v1/auth/me').set('Cookie', tech);
      expect([n.name, me.body.user?.username]).toEqual([n.name, 'desk-tech']);
    }
    // A Manager of its own each: a cached one (a point's, say) would carry no cookie.
    const monitorOn = (url: string) =>
      new Promise<Socket>((resolve, reject) => {
        const s = connectIo(`${url}/monitor`, {
          forceNew: true,
          reconnection: false,
          transports: ['websocket'],
          extraHeaders: { cookie: tech },
        });
        s.once('connect', () => resolve(s));
        s.once('connect_error', (err: Error & { data?: { code?: string } }) =>
          reject(Object.assign(err, { code: err.data?.code })),
        );
      });
    const monitors = await Promise.all([origin, edge, control].map((n) => monitorOn(n.url)));
    sockets.push(...monitors);
    const closed = monitors.map((s) => new Promise<void>((resolve) => s.once('disconnect', () => resolve())));
    await request(edge.url).patch(`/api/v1/accounts/${created.body.id}`).set('Cookie', admin).send({ disabled: true });
    const t0 = Date.now();
    await Promise.all(closed);
    expect(Date.now() - t0).toBeLessThan(3000);
    await expect(monitorOn(control.url)).rejects.toMatchObject({ code: 'unauthenticated' });
  });

  test('an edge point holding the floor leaves: the host sees the floor end', async () => {
    const told = new Promise<boolean>((resolve) =>
      p1.socket!.once('floor:you', (f: { granted: boolean }) => resolve(f.granted)),
    );
    await ok(host, 'floor:grant', { pointId: p1.pointId });
    expect(await told).toBe(true);
    p1.socket!.close();
    await waitFor(
      async () => (await ok(host, 'host:attach', { sessionId: b.sessionId })).view.floor === null,
      "the host's view without a floor",
      10_000,
      200,
    );
  });

  test("the edge dies: the host's list drops its hands and the floor held there ends", async () => {
    await p1.connect();
    const p3 = new PointClient(absentId, b.links.find((l) => l.pointId === absentId)!.token, control.url);
    await p3.connect();
    sockets.push(p3.socket!);
    expect([p1.nodeUrl, p3.nodeUrl]).toEqual([edge.url, edge.url]);
    for (const p of [p1, p3]) await waitFor(() => ok(p.socket!, 'view:get'), `${p.pointId} attached`, 15_000, 200);
    const told = new Promise<boolean>((resolve) =>
      p1.socket!.once('floor:you', (f: { granted: boolean }) => resolve(f.granted)),
    );
    expect((await ok(host, 'floor:grant', { pointId: p1.pointId })).floor.pointId).toBe(p1.pointId);
    expect(await told).toBe(true);
    await ok(p3.socket!, 'hand:raise');
    await waitFor(() => hands.length === 1 && hands[0]!.pointId === absentId, "the edge point's hand", 10_000, 50);

    await edge.stop('SIGKILL');
    // Pushed to the host when the registry drops the edge (TTL 1.5 s here), not polled.
    await waitFor(() => hands.length === 0, 'the dead edge hands dropped', 15_000, 100);
    const { view } = await ok(host, 'host:attach', { sessionId: b.sessionId });
    expect(view.floor).toBeNull();
  });
  test("the session ends: its points' assignments go from Redis", async () => {
    const redis = new Redis(r.url);
    const keys = [`cluster:assign:${b.sessionId}`, `cluster:assign:${b.sessionId}:count`];
    try {
      // Placed through the control server, and expiring on their own meanwhile.
      for (const k of keys) expect(await redis.ttl(k)).toBeGreaterThan(0);
      const ended = await request(control.url).post(`/api/v1/sessions/${b.sessionId}/end`).set('Cookie', cookie);
      expect(ended.status).toBe(200);
      await waitFor(async () => (await redis.exists(...keys)) === 0, 'the assignments dropped', 10_000, 100);
    } finally {
      redis.disconnect();
    }
  });
});
