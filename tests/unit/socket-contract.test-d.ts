// Type test of the socket plane, checked by `tsc -p tsconfig.json` (the typecheck stage
// of the test run; jest does not run this file). Each `@ts-expect-error` line must fail
// to compile: were the namespaces or the pages' sockets untyped, the directive would be
// unused and the type check would fail on it instead.
import type { Socket as ClientSocket } from 'socket.io-client';
import type { z } from 'zod';
import type { BroadcastView, PointPushes } from '../../server/contract/broadcast';
import type { InterServerEvents, PointClientEvents } from '../../server/contract/namespaces';
import type { PushEvents } from '../../server/contract/socket';
import type { Handlers } from '../../server/realtime/requests';
import type { PointSocketData, SocketNamespaces } from '../../server/realtime/sockets';
import type { Namespace } from 'socket.io';
import type { PointRequests } from '../../server/contract/broadcast';
import { requester } from '../../client/src/net/request';
import type { HostSocket, MonitorSocket, PointSocket } from '../../client/src/net/sockets';

declare const ns: SocketNamespaces;
declare const view: BroadcastView;

// ── server: pushes and socket data ──────────────────────────────────────────────────────
ns.point.to('room').emit('view', view);
ns.host.emit('numbers', { invited: 1, connected: 1, receivingVideo: 1, delegatesReported: 0 });
// @ts-expect-error a view whose state is not one of the session's states
ns.point.emit('view', { ...view, state: 'paused' });
// @ts-expect-error the host's raised hands are no push of `/point`
ns.point.emit('hands', []);
// @ts-expect-error the floor is told to points, not to the host console
ns.host.emit('floor:you', { granted: true });
// @ts-expect-error an event nobody listens to
ns.monitor.emit('deltas', {});
ns.point.on('connection', (socket) => {
  const pointId: string = socket.data.pointId;
  void pointId;
  // @ts-expect-error a point socket carries no login
  void socket.data.user;
  // @ts-expect-error `kicked` carries a reason
  socket.emit('kicked', { why: 'gone' });
});

// ── server: request handlers answer what the contract says ──────────────────────────────
export const handlers: Pick<Handlers<PointRequests, PointSocketData>, 'hand:raise' | 'mode:set'> = {
  'hand:raise': () => ({ position: 1 }),
  'mode:set': ({ mode }) => ({ mode }),
};
export const wrongAnswer: Pick<Handlers<PointRequests, PointSocketData>, 'hand:raise'> = {
  // @ts-expect-error the position is a number
  'hand:raise': () => ({ position: 'first' }),
};

// ── pages: pushes they listen to, requests they make ────────────────────────────────────
declare const point: PointSocket;
declare const host: HostSocket;
declare const monitor: MonitorSocket;
point.on('view', (v) => void v.caption?.title);
// @ts-expect-error a view has no `agenda`
point.on('view', (v) => void v.agenda);
// @ts-expect-error `numbers` is pushed to the host console only
point.on('numbers', () => undefined);
host.on('numbers', (n) => void n.receivingVideo);
monitor.on('sample', (e) => void e.sample.status);

export async function pageRequests(): Promise<void> {
  const ask = requester(point);
  const { position }: { position: number } = await ask('hand:raise', {});
  void position;
  await ask('health:report', {} as never);
  // @ts-expect-error the point's socket cannot run the host's requests
  await ask('host:attach', { sessionId: 's' });
  // @ts-expect-error no such viewer mode
  await ask('mode:set', { mode: 'ultra' });
  // @ts-expect-error the answer's position is a number
  const wrong: string = (await ask('hand:raise', {})).position;
  void wrong;
  // @ts-expect-error the monitor asks for the cluster's nodes with no payload fields
  await requester(monitor)('cluster:nodes', { all: true });
}

// ── a changed payload fails on both sides ───────────────────────────────────────────────
// Were `kicked` to carry `{ why }` instead of `{ reason }`, the server's push and the
// page's handler, both written against today's contract, would no longer compile.
type ChangedPointPushes = PushEvents<Omit<PointPushes, 'kicked'> & { kicked: z.ZodObject<{ why: z.ZodString }> }>;
declare const changedServer: Namespace<PointClientEvents, ChangedPointPushes, InterServerEvents, PointSocketData>;
declare const changedPage: ClientSocket<ChangedPointPushes, PointClientEvents>;
// @ts-expect-error the server still sends `reason`
changedServer.emit('kicked', { reason: 'opened on another screen' });
// @ts-expect-error the page still reads `reason`
changedPage.on('kicked', ({ reason }: { reason: string }) => void reason);
changedServer.emit('kicked', { why: 'opened on another screen' });
changedPage.on('kicked', ({ why }) => void why);
