// What the national benchmark reads besides the nodes' /metrics and /proc: the monitor
// desks (each a `/monitor` socket watching its province or district of the session, the
// server's filter, and timed on those tiles) and Redis (commands and the Socket.IO adapter's publishes).
import { Redis } from 'ioredis';
import type { MonitorSocket } from '../../client/src/net/sockets';
import { MonitorTimer } from './probes';
import { ask, monitorSocket } from './sockets';
import { Reservoir, rounded, summarize } from './stats';

/** A desk watching one province or district: the delay of its own points' reports only. */
export interface Desk {
  filter: { kind: 'province' | 'district'; code: string };
  node: string;
  points: Set<string>;
  timer: MonitorTimer;
  socket: MonitorSocket;
  /** Tiles received in all deltas (its area's only: the server filters). */
  tiles: number;
  /** Bytes of the deltas as JSON, sampled one delta in 10. */
  deltaBytes: Reservoir;
}

export async function openDesk(
  url: string,
  node: string,
  cookie: string,
  sessionId: string,
  filter: Desk['filter'],
  points: Set<string>,
): Promise<Desk> {
  const socket = await monitorSocket(url, cookie);
  await ask(socket, 'monitor:watch', { sessionId, [filter.kind]: filter.code }, 60_000);
  const desk: Desk = { filter, node, points, timer: new MonitorTimer(), socket, tiles: 0, deltaBytes: new Reservoir() };
  desk.timer.attach(socket);
  socket.on('delta', (d) => {
    desk.tiles += d.points.length;
    if (desk.timer.deltas % 10 === 1) desk.deltaBytes.add(Buffer.byteLength(JSON.stringify(d)));
  });
  return desk;
}

export function deskResult(d: Desk) {
  return {
    filter: `${d.filter.kind} ${d.filter.code}`,
    node: d.node,
    points: d.points.size,
    deltas: d.timer.deltas,
    tilesPerDelta: d.timer.deltas ? Math.round(d.tiles / d.timer.deltas) : 0,
    deltaKiB: rounded(summarize(d.deltaBytes.values.map((b) => b / 1024))),
    deltaMs: rounded(summarize(d.timer.deltaMs.values)),
  };
}

export interface RedisSample {
  at: number;
  commands: number;
  /** PUBLISH + SPUBLISH calls: the Socket.IO adapter's broadcasts and the relays'. */
  publishes: number;
  byCommand: Record<string, number>;
}

/** Reads Redis' INFO: commands processed and per-command calls. */
export class RedisStats {
  readonly #r: Redis;
  constructor(url: string) {
    this.#r = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 });
  }

  async sample(): Promise<RedisSample> {
    const [stats, cmd] = await Promise.all([this.#r.info('stats'), this.#r.info('commandstats')]);
    const commands = Number(/total_commands_processed:(\d+)/.exec(stats)?.[1] ?? NaN);
    const byCommand: Record<string, number> = {};
    for (const m of cmd.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) byCommand[m[1]!] = Number(m[2]);
    return {
      at: Date.now(),
      commands,
      publishes: (byCommand.publish ?? 0) + (byCommand.spublish ?? 0),
      byCommand,
    };
  }

  close(): void {
    this.#r.disconnect();
  }
}

/** Rates between two samples, the top commands by calls per second. */
export function redisRates(a: RedisSample, b: RedisSample) {
  const s = (b.at - a.at) / 1000;
  const top = Object.keys(b.byCommand)
    .map((k) => [k, ((b.byCommand[k] ?? 0) - (a.byCommand[k] ?? 0)) / s] as const)
    .filter(([, v]) => v > 0)
    .sort((x, y) => y[1] - x[1])
    .slice(0, 12)
    .map(([k, v]) => [k, Math.round(v)]);
  return {
    opsPerSecond: Math.round((b.commands - a.commands) / s),
    publishesPerSecond: Math.round((b.publishes - a.publishes) / s),
    topCommandsPerSecond: Object.fromEntries(top) as Record<string, number>,
  };
}
