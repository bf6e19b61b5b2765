// A whole server on a fresh Redis with one briefing prepared, and the socket clients its
// tests open (points by their link's token, monitors by a cookie), closed for them.
import type { Socket } from 'socket.io-client';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from './briefing';
import { startTestOrchestrator, type TestOrchestrator } from './orchestrator';
import { startTestRedis, type TestRedis } from './redis';

export interface BriefingServer {
  r: TestRedis;
  o: TestOrchestrator;
  b: PreparedBriefing;
  /** The link token of `pointId` in briefing `br` (the prepared one unless told). */
  token(pointId: string, br?: PreparedBriefing): string;
  /** A /point client of `pointId`; `own`: on a connection of its own. */
  point(pointId: string, opts?: { br?: PreparedBriefing; own?: boolean }): Promise<Socket>;
  /** A /monitor client on a connection of its own, logged in by `cookie`. */
  monitor(cookie: string): Promise<Socket>;
  /** Closes every client opened so far. */
  closeClients(): void;
  /** Closes the clients, then stops the server and its Redis. */
  stop(): Promise<void>;
}

export async function startBriefingServer(points: string[]): Promise<BriefingServer> {
  const r = await startTestRedis();
  const o = await startTestOrchestrator(r.url, ADMIN_ENV);
  const b = await prepareBriefing(o.baseUrl, points);
  const open: Socket[] = [];
  const opened = (s: Socket) => {
    open.push(s);
    return s;
  };
  const token = (pointId: string, br = b) => br.links.find((l) => l.pointId === pointId)!.token;
  const closeClients = () => {
    for (const s of open.splice(0)) s.close();
  };
  return {
    r,
    o,
    b,
    token,
    point: async (pointId, opts = {}) =>
      opened(await connectSocket(o.baseUrl, '/point', { token: token(pointId, opts.br), own: opts.own })),
    monitor: async (cookie) => opened(await connectSocket(o.baseUrl, '/monitor', { cookie, own: true })),
    closeClients,
    stop: async () => {
      closeClients();
      await o.stop();
      await r.cleanup();
    },
  };
}
