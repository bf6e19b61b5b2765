// Health, alerts and the monitor across nodes: a point served by an edge, two
// technicians on two other processes (a control server and the origin), four server
// processes on one Redis. Both monitors must show the same tiles and alerts from the same
// deltas, an acknowledgement on one must reach the other, a page moving to another edge
// moves the point's status machine with it, and a killed edge turns its point lost on
// every monitor well before any timeout that could explain it otherwise.
import { Redis } from 'ioredis';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import type { Alert, MonitorDelta, MonitorSnapshot, PointTile } from '../../server/contract/attendance';
import { goodReport, poorReport } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, login, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { ok, PointClient, startNode, type NodeProcess } from '../helpers/cluster';
import { waitFor } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(180_000);

/** What one technician's page knows: the snapshot, then every delta applied in order. */
class MonitorView {
  readonly tiles = new Map<string, PointTile>();
  readonly alerts = new Map<string, Alert>();
  readonly deltas: MonitorDelta[] = [];
  constructor(readonly socket: Socket) {}

  async watch(sessionId: string): Promise<void> {
    this.socket.on('delta', (d: MonitorDelta) => {
      this.deltas.push(d);
      for (const t of d.points) this.tiles.set(t.id, t);
      for (const a of d.alerts) this.alerts.set(a.id, a);
    });
    const snap = (await ok(this.socket, 'monitor:watch', { sessionId })) as MonitorSnapshot;
    for (const t of snap.points) if (!this.tiles.has(t.id)) this.tiles.set(t.id, t);
    for (const a of snap.alerts) if (!this.alerts.has(a.id)) this.alerts.set(a.id, a);
  }

  tile(id: string): PointTile | undefined {
    return this.tiles.get(id);
  }
}

describe('health, alerts and the monitor are the same on every node', () => {
  let r: TestRedis;
  let redis: Redis;
  let origin: NodeProcess;
  let control: NodeProcess;
  let edgeA: NodeProcess;
  let edgeB: NodeProcess;
  let b: PreparedBriefing;
  let cookie: string;
  let onControl: MonitorView;
  let onOrigin: MonitorView;
  let point: PointClient;
  let pointId: string;
  let reporting: NodeJS.Timeout | undefined;
  const sockets: Socket[] = [];

  /** The page's 2-second report, sent every 500 ms here; the last answer is kept. */
  let lastStatus = '';
  const report = async (r: object) => {
    lastStatus = ((await ok(point.socket!, 'health:report', r)) as { status: string }).status;
    return lastStatus;
  };
  const keepReporting = (r: object) => {
    clearInterval(reporting);
    reporting = setInterval(() => void report(r).catch(() => undefined), 500);
  };
  const both = () => [onControl, onOrigin];
  /** Both pages show the same thing (one may apply a delta a moment after the other). */
  const sameOnBoth = <T>(what: string, get: (m: MonitorView) => T): Promise<T> =>
    waitFor(() => {
      const [x, y] = both().map((m) => get(m));
      return x !== undefined && JSON.stringify(x) === JSON.stringify(y) ? x : undefined;
    }, `${what} the same on both monitors`) as Promise<T>;

  beforeAll(async () => {
    r = await startTestRedis();
    redis = new Redis(r.url, { lazyConnect: false, maxRetriesPerRequest: 1 });
    // No staleness and no socket sweep within the test's time: a lost tile after the kill
    // can only come from the node having left the cluster.
    const common = { REDIS_URL: r.url, ...ADMIN_ENV, ALERT_AFTER_MS: '1000', HEALTH_STALE_MS: '60000' };
    origin = await startNode('origin-1', { ...common, NODE_ROLE: 'origin' });
    [control, edgeA, edgeB] = await Promise.all([
      startNode('control-1', { ...common, NODE_ROLE: 'control' }),
      startNode('edge-a', { ...common, NODE_ROLE: 'edge' }),
      startNode('edge-b', { ...common, NODE_ROLE: 'edge' }),
    ]);
    cookie = await login(control.url);
  });

  afterAll(async () => {
    clearInterval(reporting);
    for (const s of sockets) s.close();
    point?.socket?.close();
    await Promise.all([origin, control, edgeA, edgeB].filter(Boolean).map((n) => n.stop()));
    redis?.disconnect();
    await r?.cleanup();
  });

  test('a point on an edge reporting bad health: the same poor tile and the same alert on two other nodes', async () => {
    const all = (await request(control.url).get('/api/v1/points?limit=500').set('Cookie', cookie).expect(200)).body
      .items as { id: string; level: string }[];
    const ids = all.filter((p) => p.level === 'commune').map((p) => p.id);
    pointId = ids[0]!;
    b = await prepareBriefing(control.url, ids.slice(0, 2));
    // Every node knows every other one before the point connects.
    await waitFor(
      async () => (await request(control.url).get('/cluster/v1/nodes').set('Cookie', cookie)).body.length === 4,
      'four nodes registered',
      15_000,
    );

    for (const url of [control.url, origin.url]) sockets.push(await connectSocket(url, '/monitor', { cookie }));
    onControl = new MonitorView(sockets[0]!);
    onOrigin = new MonitorView(sockets[1]!);
    for (const m of both()) await m.watch(b.sessionId);
    expect(onControl.tile(pointId)?.status).toBe('offline');

    point = new PointClient(pointId, b.links.find((l) => l.pointId === pointId)!.token, control.url);
    await point.connect();
    expect([edgeA.url, edgeB.url]).toContain(point.nodeUrl);
    await waitFor(() => point.socket!.timeout(1000).emitWithAck('view:get', {}), 'the edge to answer', 15_000, 0);
    for (let i = 0; i < 2; i++) await report(goodReport());
    expect(lastStatus).toBe('good');
    for (const m of both()) await waitFor(() => m.tile(pointId)?.status === 'good', 'the good tile');

    // Two bad samples in a row make it poor (HEALTH_WORSEN_SAMPLES), on the edge...
    await report(poorReport());
    expect(await report(poorReport())).toBe('poor');
    keepReporting(poorReport());
    // ...and the point's status machine runs there and only there.
    const servingNode = point.nodeUrl === edgeA.url ? 'edge-a' : 'edge-b';
    expect(await redis.hget(`health:${b.sessionId}:owner`, pointId)).toBe(servingNode);

    // Both technicians: the poor tile, connected, then the quality alert after ALERT_AFTER_MS.
    for (const m of both()) {
      await waitFor(() => m.tile(pointId)?.status === 'poor' && m.tile(pointId)?.connected, 'the poor tile');
    }
    const alertOn = (m: MonitorView) =>
      [...m.alerts.values()].find((a) => a.pointId === pointId && a.kind === 'quality' && a.state === 'open');
    const [a1, a2] = await Promise.all(both().map((m) => waitFor(() => alertOn(m), 'the quality alert', 15_000)));
    expect(a1!.id).toBe(a2!.id);
    expect(a1).toMatchObject({ status: 'poor', count: 1 });
    expect(a1!.lastSample?.rttMs).toBe(900);
    expect(await sameOnBoth('the alert', (m) => m.alerts.get(a1!.id))).toMatchObject({ state: 'open' });
    expect(await sameOnBoth('the tile', (m) => m.tile(pointId))).toMatchObject({ status: 'poor', openAlerts: 1 });
  });

  test('an acknowledgement and an assignment on one node reach the technician on the other', async () => {
    const alert = [...onControl.alerts.values()].find((a) => a.pointId === pointId && a.kind === 'quality')!;
    const acked = (await ok(onControl.socket, 'alert:ack', { sessionId: b.sessionId, alertId: alert.id })) as Alert;
    expect(acked.state).toBe('acknowledged');
    const seen = await waitFor(
      () => (onOrigin.alerts.get(alert.id)?.state === 'acknowledged' ? onOrigin.alerts.get(alert.id) : undefined),
      'the acknowledgement on the origin',
    );
    expect(seen.acknowledgedBy).toBe(acked.acknowledgedBy);

    await ok(onOrigin.socket, 'alert:assign', { sessionId: b.sessionId, alertId: alert.id, assignee: 'Anh Tuấn' });
    await waitFor(
      () => onControl.alerts.get(alert.id)?.assignee === 'Anh Tuấn',
      'the assignment on the control server',
    );
    expect(await sameOnBoth('the alert', (m) => m.alerts.get(alert.id))).toMatchObject({
      state: 'acknowledged',
      assignee: 'Anh Tuấn',
    });

    // One delta computer for the session: both pages got the very same deltas, once each
    // (with one computer per node, each page would get every node's, their seqs interleaved).
    const ids = (m: MonitorView) => m.deltas.map((d) => `${d.seq}@${d.at}`);
    // The control server's page watched first: compare from the origin's first delta on.
    const common = () => ids(onControl).slice(ids(onControl).indexOf(ids(onOrigin)[0]!));
    await waitFor(() => common().length === onOrigin.deltas.length, 'the same deltas on both');
    expect(common()).toEqual(ids(onOrigin));
    const seqs = onControl.deltas.map((d) => d.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  test("a page moving to the other edge takes the point's status machine with it", async () => {
    const from = point.nodeUrl;
    const to = from === edgeA.url ? edgeB : edgeA;
    clearInterval(reporting);
    const old = point.socket!;
    const kicked = new Promise<void>((resolve) => old.once('disconnect', () => resolve()));
    point.socket = await connectSocket(to.url, '/point', { token: point.token });
    point.nodeUrl = to.url;
    await kicked;
    await waitFor(() => point.socket!.timeout(1000).emitWithAck('view:get', {}), 'the new edge to answer', 15_000, 0);
    await waitFor(
      async () => (await redis.hget(`health:${b.sessionId}:owner`, pointId)) === to.name,
      `${to.name} owning the point`,
    );
    // Good again on the new node: recovered through its own reports, and every monitor follows.
    await waitFor(async () => (await report(goodReport())) === 'good', 'good on the new edge', 15_000, 200);
    keepReporting(goodReport());
    for (const m of both()) await waitFor(() => m.tile(pointId)?.status === 'good', 'the good tile');
    const stored = JSON.parse((await redis.hget(`health:${b.sessionId}:state`, pointId))!) as {
      state: { worst: string };
    };
    expect(stored.state.worst).toBe('poor'); // one machine, continued: the session's worst kept
    // The old page's socket entry goes (a little later: a hand-over, not a disconnect).
    await waitFor(async () => {
      const members = await redis.zrange(`att:${b.sessionId}:sockets:${pointId}`, '0', '-1');
      return members.length === 1 && members[0]!.startsWith(`${to.name}|`);
    }, "only the new page's socket in the ledger");
    expect(await redis.hget(`att:${b.sessionId}:p:${pointId}`, 'disconnects')).toBeNull();
    // The quality alert cleared itself on recovery, and both technicians see it.
    for (const m of both()) {
      await waitFor(
        () => [...m.alerts.values()].every((a) => a.pointId !== pointId || a.state === 'cleared'),
        'the alert cleared',
      );
    }
  });

  test("killing the point's node turns its tile lost on every monitor", async () => {
    const node = point.nodeUrl === edgeA.url ? edgeA : edgeB;
    for (const m of both()) expect(m.tile(pointId)).toMatchObject({ status: 'good', connected: true });
    const dropped = new Promise<void>((resolve) => point.socket!.once('disconnect', () => resolve()));
    await node.stop('SIGKILL');
    await dropped;
    clearInterval(reporting);
    for (const m of both()) {
      await waitFor(
        () => m.tile(pointId)?.status === 'lost' && m.tile(pointId)?.connected === false,
        // Well within HEALTH_STALE_MS (60 s here) and the 60-second socket sweep.
        'the lost tile',
        15_000,
      );
    }
    expect(await sameOnBoth('the tile', (m) => m.tile(pointId))).toMatchObject({ status: 'lost', connected: false });
    const events = (
      (await ok(onControl.socket, 'monitor:detail', { sessionId: b.sessionId, pointId })) as {
        events: { type: string; detail: string }[];
      }
    ).events;
    expect(events.some((e) => e.type === 'leave' && e.detail === 'node gone')).toBe(true);
    // A lost point raises its own alert after ALERT_AFTER_MS, on every monitor.
    for (const m of both()) {
      await waitFor(
        () => [...m.alerts.values()].some((a) => a.pointId === pointId && a.status === 'lost'),
        'the lost alert',
        15_000,
      );
    }
  });
});
