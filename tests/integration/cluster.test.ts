// Scale-out on loopback: an origin (receives the host), two edges (serve the points from
// the origin's stream over PipeTransports) and a control server (the technician's
// monitor), four server processes on one Redis.
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Redis } from 'ioredis';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import { ADMIN_ENV, connectSocket, login, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { ok, PointClient, startNode, type NodeProcess } from '../helpers/cluster';
import { waitFor } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import type { NodeInfo } from '../../server/contract/cluster';
import type { TimelineEntry } from '../../server/contract/timeline';
import { TIMELINE_KEYS } from '../../server/domain/timeline/store';
import { tiedSpawn } from '../../server/platform/tied-spawn';

jest.setTimeout(180_000);

describe('several nodes: origin, two edges, a control server', () => {
  let r: TestRedis;
  let origin: NodeProcess;
  let edgeA: NodeProcess;
  let edgeB: NodeProcess;
  let control: NodeProcess;
  let edgeC: NodeProcess | undefined;
  let b: PreparedBriefing;
  let cookie: string;
  let host: Socket;
  let ff: ChildProcess | undefined;
  const points: PointClient[] = [];

  const nodes = async (): Promise<NodeInfo[]> =>
    (await request(control.url).get('/cluster/v1/nodes').set('Cookie', cookie).expect(200)).body as NodeInfo[];
  /** The hall's sources in the session's timeline, in the order written. */
  const hallSources = async (): Promise<(string | null)[]> => {
    const redis = new Redis(r.url);
    try {
      const raw = await redis.lrange(TIMELINE_KEYS.entries(b.sessionId), 0, -1);
      return raw.flatMap((e) => {
        const entry = JSON.parse(e) as TimelineEntry;
        return entry.type === 'hall' ? [entry.source] : [];
      });
    } finally {
      redis.disconnect();
    }
  };

  beforeAll(async () => {
    r = await startTestRedis();
    const common = { REDIS_URL: r.url, ...ADMIN_ENV };
    // The origin first: it seeds the registry and the admin; the others start together.
    origin = await startNode('origin-1', { ...common, NODE_ROLE: 'origin' });
    [edgeA, edgeB, control] = await Promise.all([
      startNode('edge-a', { ...common, NODE_ROLE: 'edge', MEDIASOUP_WORKERS: '2' }),
      startNode('edge-b', { ...common, NODE_ROLE: 'edge', MEDIASOUP_WORKERS: '2' }),
      startNode('control-1', { ...common, NODE_ROLE: 'control' }),
    ]);
    cookie = await login(control.url);
  });

  afterAll(async () => {
    ff?.kill('SIGKILL');
    host?.close();
    for (const p of points) p.socket?.close();
    await Promise.all([origin, edgeA, edgeB, control, edgeC].filter(Boolean).map((n) => n!.stop()));
    await r?.cleanup();
  });

  test('every node registers with its role, URL and load, and the monitor lists them', async () => {
    const list = await waitFor(async () => ((await nodes()).length === 4 ? nodes() : undefined), 'four nodes', 15_000);
    expect(list.map((n) => [n.id, n.role])).toEqual([
      ['control-1', 'control'],
      ['edge-a', 'edge'],
      ['edge-b', 'edge'],
      ['origin-1', 'origin'],
    ]);
    expect(list.find((n) => n.id === 'edge-a')!.url).toBe(edgeA.url);
    expect(list.find((n) => n.id === 'edge-a')!.load.workers).toBe(2);
    // The same through the /monitor namespace, on another process than the one asked by HTTP.
    const monitor = await connectSocket(edgeB.url, '/monitor', { cookie });
    try {
      expect((await ok(monitor, 'cluster:nodes')).map((n: NodeInfo) => n.id)).toContain('origin-1');
    } finally {
      monitor.close();
    }
  });

  test("points on two edges all receive the host's stream, piped from the origin", async () => {
    // Two districts, two points each: a district's points go to the same edge.
    const all = (await request(control.url).get('/api/v1/points?limit=500').set('Cookie', cookie).expect(200)).body
      .items as { id: string; district: string | null; level: string }[];
    const byDistrict = new Map<string, string[]>();
    for (const p of all)
      if (p.district && p.level === 'commune')
        (byDistrict.get(p.district) ?? byDistrict.set(p.district, []).get(p.district)!).push(p.id);
    const districts = [...byDistrict.values()].filter((l) => l.length >= 2).slice(0, 2);
    const ids = districts.flatMap((l) => l.slice(0, 2));
    expect(ids).toHaveLength(4);
    b = await prepareBriefing(control.url, ids);

    // The host runs the briefing on the origin; session events reach every node.
    host = await connectSocket(origin.url, '/host', { cookie: b.cookie });
    await ok(host, 'host:attach', { sessionId: b.sessionId });
    for (const id of ids) {
      const link = b.links.find((l) => l.pointId === id)!;
      const p = new PointClient(id, link.token, control.url);
      await p.connect();
      points.push(p);
    }
    const onEdge = (url: string) => points.filter((p) => p.nodeUrl === url).map((p) => p.pointId);
    expect(onEdge(edgeA.url)).toHaveLength(2);
    expect(onEdge(edgeB.url)).toHaveLength(2);
    for (const d of districts)
      expect(new Set(points.filter((p) => d.includes(p.pointId)).map((p) => p.nodeUrl)).size).toBe(1);

    const liveOnEdge = new Promise<{ state: string }>((resolve) =>
      points[0]!.socket!.on('view', (v: { state: string }) => v.state === 'live' && resolve(v)),
    );
    const ingest = await ok(host, 'ingest:plain', {
      video: { ssrc: 33333333, payloadType: 101 },
      audio: { ssrc: 44444444, payloadType: 100 },
    });
    await ok(host, 'session:goLive');
    expect((await liveOnEdge).state).toBe('live');
    await Promise.all(points.map((p) => p.receiveHall()));
    expect(points.every((p) => p.consumers === 2)).toBe(true);

    const haveFfmpeg = existsSync('/usr/bin/ffmpeg');
    if (haveFfmpeg) {
      const v = ingest.video;
      const a = ingest.audio;
      ff = tiedSpawn(
        '/usr/bin/ffmpeg',
        [
          ...['-hide_banner', '-loglevel', 'error', '-re'],
          ...['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=15', '-f', 'lavfi', '-i', 'sine=frequency=440'],
          ...['-t', '120', '-map', '0:v', '-c:v', 'libvpx', '-b:v', '300k', '-deadline', 'realtime', '-cpu-used', '8'],
          ...['-g', '15', '-ssrc', '33333333', '-payload_type', '101'],
          ...['-f', 'rtp', `rtp://${v.ip}:${v.port}?rtcpport=${v.rtcpPort}&pkt_size=1200`],
          ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '48k', '-ssrc', '44444444', '-payload_type', '100'],
          ...['-f', 'rtp', `rtp://${a.ip}:${a.port}?rtcpport=${a.rtcpPort}&pkt_size=1200`],
        ],
        { stdio: 'ignore' },
      );
    }
    // Each edge: both producers piped in, RTP arriving through the pipe, 4 consumers.
    const list = await waitFor(
      async () => {
        const l = await nodes();
        const edges = l.filter((n) => n.role === 'edge');
        const fed = edges.every(
          (n) =>
            n.feeds[b.sessionId]?.producers === 2 &&
            (!haveFfmpeg || n.feeds[b.sessionId]!.bytes > 20_000) &&
            n.load.consumers === 4 &&
            n.sessions[b.sessionId]?.length === 2,
        );
        return fed ? l : undefined;
      },
      'both edges fed by the origin and serving their points',
      30_000,
      250,
    );
    expect(list.find((n) => n.id === 'origin-1')!.load.points).toBe(0);
    // The origin's hall is the ingest; the edges, piping it in, write no entry of it.
    expect(await hallSources()).toEqual(['ingest']);
  });

  test('a technician on the control server sees the points connected to the edges', async () => {
    const monitor = await connectSocket(control.url, '/monitor', { cookie });
    try {
      const snap = await waitFor(
        async () => {
          const s = (await ok(monitor, 'monitor:watch', { sessionId: b.sessionId })) as {
            points: { id: string; connected: boolean }[];
          };
          return s.points.filter((p) => p.connected).length === 4 ? s : undefined;
        },
        'four connected tiles',
        15_000,
        300,
      );
      expect(snap.points).toHaveLength(4);
      // The host's live numbers on the origin count points on other nodes.
      const n = await ok(host, 'host:attach', { sessionId: b.sessionId });
      expect(n.numbers.connected).toBe(4);
    } finally {
      monitor.close();
    }
  });

  test('killing an edge moves its points to the other, where they receive the host again', async () => {
    const moving = points.filter((p) => p.nodeUrl === edgeA.url);
    expect(moving).toHaveLength(2);
    const dropped = moving.map((p) => new Promise<void>((resolve) => p.socket!.once('disconnect', () => resolve())));
    await edgeA.stop('SIGKILL');
    await Promise.all(dropped);
    // As the point page does on losing its socket: ask again, connect where it is told.
    await Promise.all(moving.map((p) => p.connect()));
    expect(moving.map((p) => p.nodeUrl)).toEqual([edgeB.url, edgeB.url]);
    await Promise.all(moving.map((p) => p.receiveHall()));
    const l = await waitFor(
      async () => {
        const list = await nodes();
        const bNode = list.find((n) => n.id === 'edge-b');
        return !list.some((n) => n.id === 'edge-a') &&
          bNode?.sessions[b.sessionId]?.length === 4 &&
          bNode.load.consumers === 8
          ? list
          : undefined;
      },
      'edge-a gone and edge-b serving all four points',
      15_000,
      250,
    );
    expect(l.find((n) => n.id === 'edge-b')!.load.consumers).toBe(8);
  });

  test("an edge fed by another edge (a tree) takes the origin when its parent dies; the timeline keeps the origin's hall", async () => {
    edgeC = await startNode('edge-c', {
      REDIS_URL: r.url,
      NODE_ROLE: 'edge',
      NODE_UPSTREAM: 'edge-b',
    });
    // The point opens its page on edge-c while still connected to edge-b: the old page is let go.
    const p = points[3]!;
    const kicked = new Promise<void>((resolve) => p.socket!.once('kicked', () => resolve()));
    const dropped = new Promise<void>((resolve) => p.socket!.once('disconnect', () => resolve()));
    p.nodeUrl = edgeC.url;
    p.socket = await connectSocket(edgeC.url, '/point', { token: p.token });
    await Promise.all([kicked, dropped]);
    await p.receiveHall();
    const feedOf = async (id: string) => (await nodes()).find((n) => n.id === id)?.feeds[b.sessionId];
    const before = await waitFor(
      async () => {
        const f = await feedOf('edge-c');
        return f?.upstream === 'edge-b' && f.producers === 2 && f.bytes > 10_000 ? f : undefined;
      },
      'edge-c fed by edge-b',
      20_000,
      250,
    );
    expect(before.upstream).toBe('edge-b');

    const reannounced = new Promise<void>((resolve) =>
      p.socket!.on('rtc:newProducer', (x: { source: string }) => x.source === 'host-camera' && resolve()),
    );
    await edgeB.stop('SIGKILL');
    const after = await waitFor(
      async () => {
        const f = await feedOf('edge-c');
        return f?.upstream === 'origin-1' && f.producers === 2 && f.bytes > 10_000 ? f : undefined;
      },
      'edge-c fed by the origin',
      20_000,
      250,
    );
    expect(after.upstream).toBe('origin-1');
    await reannounced;
    await p.receiveHall();
    // Edge-c lost the hall with its pipe and took it again: the origin's hall never changed,
    // and only the origin records it (an edge's entry would read `null`, then `ingest`).
    expect(await hallSources()).toEqual(['ingest']);
  });
});
