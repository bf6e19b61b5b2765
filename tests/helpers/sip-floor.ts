// A live briefing with a room system ready to take the floor, shared by the tests of the
// floor over SIP: the SIP server (tests/helpers/sip-server.ts) with its test hall, the
// session live from a host socket, and baresip dialling in as a point from the network
// namespace with G.711 (its tone and fakevideo's pattern are what it sends on the floor).
import type { Socket } from 'socket.io-client';
import type { BroadcastRoom } from '../../sfu';
import { ask } from './attendance';
import { startBaresip, type Baresip } from './baresip';
import { connectSocket } from './briefing';
import { openTestHall, startSipServer, type SipServer, type TestHall } from './sip-server';

export interface LiveSipFloor {
  s: SipServer;
  hall: TestHall;
  room: BroadcastRoom;
  /** The host's socket, attached to the live session (floor:grant, floor:revoke). */
  host: Socket;
  /** The floor producers of a point (its `floor-camera` and `floor-mic`). */
  floorProducers(pointId: string): ReturnType<BroadcastRoom['listProducers']>;
  /** baresip dialling in as `pointId`. */
  dial(pointId: string): Promise<Baresip>;
  stop(): Promise<void>;
}

export async function startLiveSipFloor(): Promise<LiveSipFloor> {
  const s = await startSipServer();
  let hall: TestHall | undefined;
  let host: Socket | undefined;
  const phones: Baresip[] = [];
  const stop = async () => {
    host?.close();
    for (const p of phones.splice(0)) await p.stop();
    hall?.sender.kill('SIGKILL');
    await s.stop();
  };
  try {
    hall = await openTestHall(s);
    const room = await (await s.o.orchestrator.realtime.broadcasts.get(s.b.sessionId)).requireRoom();
    host = await connectSocket(s.o.baseUrl, '/host', { cookie: s.b.cookie });
    await ask(host, 'host:attach', { sessionId: s.b.sessionId });
    await ask(host, 'session:goLive');
    return {
      s,
      hall,
      room,
      host,
      floorProducers: (pointId) =>
        room
          .listProducers()
          .filter((p) => p.peerId === pointId && (p.source === 'floor-camera' || p.source === 'floor-mic')),
      dial: async (pointId) => {
        const phone = startBaresip({
          netns: s.net.name,
          localIp: s.net.pointIp,
          localPort: 5080,
          target: s.target,
          user: pointId,
          password: await s.pinOf(pointId),
          audioCodec: 'PCMU/8000/1',
        });
        phones.push(phone);
        return phone;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
