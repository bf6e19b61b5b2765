// What the monitor costs across nodes when few look: an origin serving four points of two
// districts, a control server, one Redis. A point's health report must cost no PUBLISH
// while no monitor has its detail open (counted on the Socket.IO adapter's channels), and
// reach a technician on another node once one does; a desk filtered to a district must
// receive that district's tiles only, from a feed computed on either node.
import { Redis } from 'ioredis';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import type { MonitorDelta, MonitorSnapshot } from '../../server/contract/attendance';
import { goodReport } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, login, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { ok, PointClient, startNode, type NodeProcess } from '../helpers/cluster';
import { waitFor } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';

jest.setTimeout(180_000);

const MONITOR_CHANNEL = 'socket.io#/monitor#';

describe('the monitor sends what is watched, to whom watches it', () => {
  let r: TestRedis;
  let sub: Redis;
  let origin: NodeProcess;
  let control: NodeProcess;
  let b: PreparedBriefing;
  let cookie: string;
  /** Two points of each district, in the order they report. */
  let inA: string[];
  let inB: string[];
  let districtA: string;
  let districtB: string;
  const points = new Map<string, PointClient>();
  const sockets: Socket[] = [];
  /** Every message on the adapter's `/monitor` channels: the room it was for. */
  const published: string[] = [];

  const report = (pointId: string) => ok(points.get(pointId)!.socket!, 'health:report', goodReport());
  const monitor = async (url: string) => {
    const s = await connectSocket(url, '/monitor', { cookie, own: true });
    sockets.push(s);
    return s;
  };
  const roomOf = (channel: string) => channel.slice(MONITOR_CHANNEL.length, -1);

  beforeAll(async () => {
    r = await startTestRedis();
    const common = { REDIS_URL: r.url, ...ADMIN_ENV, HEALTH_STALE_MS: '60000' };
    origin = await startNode('origin-1', { ...common, NODE_ROLE: 'origin' });
    control = await startNode('control-1', { ...common, NODE_ROLE: 'control' });
    cookie = await login(control.url);
    sub = new Redis(r.url);
    sub.on('pmessage', (_p, channel: string) => published.push(roomOf(channel)));
    await sub.psubscribe(`${MONITOR_CHANNEL}*`);
  });

  afterAll(async () => {
    for (const s of sockets) s.close();
    for (const p of points.values()) p.socket?.close();
    await Promise.all([origin, control].filter(Boolean).map((n) => n.stop()));
    sub?.disconnect();
    await r?.cleanup();
  });

  test('reports while no monitor is open publish nothing; an open detail on another node gets its point only', async () => {
    const all = (await request(control.url).get('/api/v1/points?limit=500').set('Cookie', cookie).expect(200)).body
      .items as { id: string; level: string; district: string | null }[];
    const communes = all.filter((p) => p.level === 'commune' && p.district);
    [districtA, districtB] = [...new Set(communes.map((p) => p.district!))] as [string, string];
    inA = communes
      .filter((p) => p.district === districtA)
      .map((p) => p.id)
      .slice(0, 2);
    inB = communes
      .filter((p) => p.district === districtB)
      .map((p) => p.id)
      .slice(0, 2);
    b = await prepareBriefing(control.url, [...inA, ...inB]);
    await waitFor(
      async () => (await request(control.url).get('/cluster/v1/nodes').set('Cookie', cookie)).body.length === 2,
      'two nodes registered',
      15_000,
    );
    for (const id of [...inA, ...inB]) {
      const p = new PointClient(id, b.links.find((l) => l.pointId === id)!.token, control.url);
      await p.connect();
      // With no edge, the origin serves the points.
      expect(p.nodeUrl).toBe(origin.url);
      await waitFor(() => p.socket!.timeout(1000).emitWithAck('view:get', {}), 'the origin to answer', 15_000, 0);
      points.set(id, p);
    }

    // Ten reports of each point, nobody watching.
    for (let i = 0; i < 10; i++) for (const id of points.keys()) await report(id);
    // Then a desk on the origin: the origin takes the feed and its first delta goes out on
    // the origin's publishing connection, after any sample those reports published there.
    const onOrigin = await monitor(origin.url);
    // What nobody watched was stored all the same: the snapshot shows it.
    const snap = (await ok(onOrigin, 'monitor:watch', { sessionId: b.sessionId })) as MonitorSnapshot;
    expect(snap.points.map((t) => [t.id, t.status, t.connected]).sort()).toEqual(
      [...points.keys()].sort().map((id) => [id, 'good', true]),
    );
    const everyRoom = `mon:${b.sessionId}:f:/`;
    await waitFor(() => published.includes(everyRoom), 'the first delta through Redis', 15_000);
    const beforeDelta = published.slice(0, published.indexOf(everyRoom));
    expect(beforeDelta.filter((room) => room.includes(':p:'))).toEqual([]);

    // A technician on the control server opens the first point's detail: its samples flow.
    const onControl = await monitor(control.url);
    await ok(onControl, 'monitor:watch', { sessionId: b.sessionId });
    const samples: string[] = [];
    onControl.on('sample', (e: { pointId: string }) => samples.push(e.pointId));
    const [watched, other] = [inA[0]!, inB[0]!];
    const detail = (await ok(onControl, 'monitor:detail', { sessionId: b.sessionId, pointId: watched })) as {
      history: unknown[];
    };
    expect(detail.history.length).toBeGreaterThanOrEqual(10);
    // The other point reports first each round: a sample of it would be published before
    // the watched one's on the same connection.
    await waitFor(
      async () => {
        await report(other);
        await report(watched);
        return samples.length >= 3;
      },
      'samples of the watched point on the control server',
      15_000,
      200,
    );
    expect(new Set(samples)).toEqual(new Set([watched]));
    // Redis delivers one connection's messages in order: once this subscriber has three of
    // the watched point's samples, it has any of the other point's published before them.
    const watchedRoom = `mon:${b.sessionId}:p:${watched}`;
    await waitFor(() => published.filter((room) => room === watchedRoom).length >= 3, 'the samples through Redis');
    const sampleRooms = new Set(published.filter((room) => room.includes(':p:')));
    expect(sampleRooms).toEqual(new Set([watchedRoom]));

    // The desk closes the detail view: the point's samples stop reaching it. Another desk
    // on the same node opens the other point's; the watched point reports before the other
    // each round, so the other's sample comes after any of the watched one's.
    await ok(onControl, 'monitor:undetail', { sessionId: b.sessionId });
    const had = samples.length;
    const second = await monitor(control.url);
    await ok(second, 'monitor:watch', { sessionId: b.sessionId });
    const seen: string[] = [];
    second.on('sample', (e: { pointId: string }) => seen.push(e.pointId));
    await ok(second, 'monitor:detail', { sessionId: b.sessionId, pointId: other });
    await waitFor(
      async () => {
        await report(watched);
        await report(other);
        return seen.includes(other);
      },
      'samples of the other point',
      15_000,
      200,
    );
    expect(samples.length).toBe(had);
  });

  test('a desk filtered to a district gets only that district, on either node, with the areas to choose from', async () => {
    const watch = async (url: string, filter: object) => {
      const s = await monitor(url);
      const deltas: MonitorDelta[] = [];
      s.on('delta', (d: MonitorDelta) => deltas.push(d));
      const snap = (await ok(s, 'monitor:watch', { sessionId: b.sessionId, ...filter })) as MonitorSnapshot;
      return { s, deltas, snap };
    };
    const deskA = await watch(control.url, { district: districtA });
    const deskB = await watch(origin.url, { district: districtB });
    const every = await watch(control.url, {});

    expect(deskA.snap.filter).toEqual({ district: districtA });
    expect(deskA.snap.points.map((t) => t.id).sort()).toEqual([...inA].sort());
    expect(deskA.snap.districts.map((d) => d.code)).toEqual([districtA]);
    expect(deskA.snap.province.invited).toBe(2);
    expect(deskB.snap.points.map((t) => t.id).sort()).toEqual([...inB].sort());
    expect(every.snap.points).toHaveLength(4);
    // The selectors still list both districts and the province.
    for (const d of [deskA, deskB, every])
      expect(d.snap.areas.districts.map((x) => x.code).sort()).toEqual([districtA, districtB].sort());
    expect(deskA.snap.areas.provinces.map((p) => p.code)).toEqual(['HT']);
    expect(new Set(every.snap.points.map((t) => t.province))).toEqual(new Set(['HT']));

    // A filter new to the feed first gets every tile it matches; the changes come after.
    await waitFor(() => deskA.deltas.length > 0 && deskB.deltas.length > 0, "each area's first delta");
    for (const [desk, mine] of [
      [deskA, inA],
      [deskB, inB],
    ] as const)
      expect(desk.deltas[0]!.points.map((t) => t.id).sort()).toEqual([...mine].sort());
    // Every point counts a new headcount: each tile changes.
    for (const [i, id] of [...inA, ...inB].entries())
      await ok(points.get(id)!.socket!, 'headcount:report', { count: 10 + i });
    const headcount = (d: { deltas: MonitorDelta[] }, id: string) =>
      d.deltas.flatMap((x) => x.points).filter((t) => t.id === id && t.headcount !== null).length > 0;
    await waitFor(() => [...inA, ...inB].every((id) => headcount(every, id)), 'every headcount on the whole desk');
    await waitFor(() => inA.every((id) => headcount(deskA, id)), "district A's headcounts on its desk");
    await waitFor(() => inB.every((id) => headcount(deskB, id)), "district B's headcounts on its desk");

    // Only its own district's tiles and totals, ever.
    for (const [desk, mine] of [
      [deskA, inA],
      [deskB, inB],
    ] as const) {
      expect(new Set(desk.deltas.flatMap((d) => d.points.map((t) => t.id)))).toEqual(new Set(mine));
      for (const d of desk.deltas) expect(d.province.invited).toBe(2);
    }
    const last = deskA.deltas.at(-1)!;
    expect(last.province.delegates).toBe(10 + 11);

    // Switching the desk to the other district: its snapshot, then that district's tiles.
    const switched = (await ok(deskA.s, 'monitor:watch', {
      sessionId: b.sessionId,
      district: districtB,
    })) as MonitorSnapshot;
    expect(switched.points.map((t) => t.id).sort()).toEqual([...inB].sort());
    const from = deskA.deltas.length;
    await ok(points.get(inB[0]!)!.socket!, 'headcount:report', { count: 40 });
    await ok(points.get(inA[0]!)!.socket!, 'headcount:report', { count: 41 });
    await waitFor(
      () => every.deltas.some((d) => d.points.some((t) => t.id === inA[0] && t.headcount === 41)),
      'the last headcount on the whole desk',
    );
    await waitFor(
      () => deskA.deltas.slice(from).some((d) => d.points.some((t) => t.id === inB[0] && t.headcount === 40)),
      'the new district on the switched desk',
    );
    const after = deskA.deltas.slice(from).flatMap((d) => d.points.map((t) => t.id));
    expect(after.every((id) => inB.includes(id))).toBe(true);

    // A filter that is not a code is refused.
    await expect(ok(deskB.s, 'monitor:watch', { sessionId: b.sessionId, district: 'a b' })).rejects.toThrow(
      /bad_request/,
    );
  });
});
