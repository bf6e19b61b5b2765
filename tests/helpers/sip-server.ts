// A whole server with its SIP gateway listening on the host's side of a test's network
// namespace (where the room systems, SIPp or baresip, run), a briefing in its lobby that
// invites the points, and each point's PIN as the host console gives it. The hall, where a
// test needs one, is a plain RTP ingest fed by ffmpeg's test pattern and tone.
import type { ChildProcess } from 'node:child_process';
import request from 'supertest';
import { ADMIN_ENV, prepareBriefing, type PreparedBriefing } from './briefing';
import { publishTestPattern } from './hall-feed';
import { createPointNetwork, type PointNetwork } from './netns';
import { startTestOrchestrator, type TestOrchestrator } from './orchestrator';
import { startTestRedis, type TestRedis } from './redis';
import { tiedSpawn } from '../../server/platform/tied-spawn';

export const SIP_PORT = 5060;

export interface SipServer {
  r: TestRedis;
  o: TestOrchestrator;
  net: PointNetwork;
  b: PreparedBriefing;
  /** The gateway's address and port, as room systems in the namespace dial it. */
  target: string;
  /** The point's SIP PIN for the briefing (the host console's link). */
  pinOf(pointId: string): Promise<string>;
  stop(): Promise<void>;
}

export interface TestHall {
  ingestId: string;
  camera: string;
  mic: string;
  sender: ChildProcess;
}

/** `env` adds to (or overrides) the gateway's settings; `points` are invited to the briefing. */
export async function startSipServer(
  env: Record<string, string> = {},
  points: string[] = ['HT-CX', 'HT-HK'],
): Promise<SipServer> {
  const net = createPointNetwork();
  let r: TestRedis | undefined;
  let o: TestOrchestrator | undefined;
  const stop = async () => {
    await o?.stop();
    await r?.cleanup();
    net.remove();
  };
  try {
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, {
      ...ADMIN_ENV,
      SIP_PORT: String(SIP_PORT),
      SIP_LISTEN_IP: net.hostIp,
      SIP_PLAIN_RTP: 'HT-CX',
      ...env,
    });
    const b = await prepareBriefing(o.baseUrl, points);
    const server = o;
    return {
      r,
      o,
      net,
      b,
      target: `${net.hostIp}:${SIP_PORT}`,
      pinOf: async (pointId) => {
        const res = await request(server.baseUrl)
          .get(`/api/v1/sessions/${b.sessionId}/links/${pointId}/sip`)
          .set('Cookie', b.cookie);
        if (res.status !== 200) throw new Error(`no SIP link for ${pointId}: ${res.status}`);
        return res.body.pin as string;
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The hall as an encoder would send it: a plain RTP ingest in the session's room fed by ffmpeg (`picture`: its lavfi source). */
export async function openTestHall(s: SipServer, picture?: string): Promise<TestHall> {
  const room = await (await s.o.orchestrator.realtime.broadcasts.get(s.b.sessionId)).requireRoom();
  const ingest = await room.createPlainIngest({
    video: { ssrc: 1111, payloadType: 101 },
    audio: { ssrc: 2222, payloadType: 100 },
  });
  const endpoint = (e: NonNullable<typeof ingest.video>) => ({
    producerId: e.producerId,
    ip: e.ip,
    port: e.port,
    rtcpPort: e.rtcpPort,
  });
  return {
    ingestId: ingest.ingestId,
    camera: ingest.video!.producerId,
    mic: ingest.audio!.producerId,
    sender: publishTestPattern(endpoint(ingest.video!), endpoint(ingest.audio!), picture),
  };
}

/** Counts the datagrams each UDP port of the namespace receives: a room system's media ports. */
export function countDatagrams(net: PointNetwork, ports: number[]): { counts(): Record<number, number>; stop(): void } {
  const script = `
    const dgram = require('node:dgram');
    const counts = {};
    for (const p of process.argv.slice(2)) {
      counts[p] = 0;
      const s = dgram.createSocket('udp4');
      s.on('message', () => (counts[p] += 1));
      s.bind(Number(p), process.argv[1]);
    }
    setInterval(() => console.log(JSON.stringify(counts)), 250);`;
  const child = tiedSpawn(
    'ip',
    ['netns', 'exec', net.name, process.execPath, '-e', script, net.pointIp, ...ports.map(String)],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  let last: Record<number, number> = {};
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    const lines = (buf + d.toString()).split('\n');
    buf = lines.pop()!;
    if (lines.length) last = JSON.parse(lines[lines.length - 1]!) as Record<number, number>;
  });
  return { counts: () => last, stop: () => child.kill('SIGKILL') };
}
