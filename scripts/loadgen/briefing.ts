// The briefing a load run plays: prepared through the REST API as the host console does
// (log in, create, schedule, open the lobby, read the join links), and the virtual host
// publishing into it through `ingest:plain` with ffmpeg replaying a prepared clip, then
// going live (the server refuses a live briefing without the hall).
import type { ChildProcess } from 'node:child_process';
import type { HostSocket } from '../../client/src/net/sockets';
import { ask, hostSocket } from './sockets';
import { httpJson, must } from './http';
import type { LoadOptions } from './options';
import { DEFAULT_SOURCE, preparedClip, startReplay } from './source';

export interface RegistryPoint {
  id: string;
  expectedDelegates: number;
  district?: string | null;
}

export interface Briefing {
  /** The admin's session cookie. */
  cookie: string;
  sessionId: string;
  /** The points taken from the registry, in the order they join. */
  chosen: RegistryPoint[];
  /** Each point's join token. */
  tokenOf: Map<string, string>;
}

/**
 * Logs in, creates a session in its lobby for the first `o.points` points of the registry and
 * reads their join links. In a cluster a district's points share an edge: a small run
 * takes points from each district in turn so that every edge gets some.
 */
export async function prepareBriefing(
  base: string,
  o: LoadOptions,
  spreadOverDistricts: boolean,
  log: (l: string) => void,
): Promise<Briefing> {
  const login = await must(httpJson(`${base}/api/v1/auth/login`, { method: 'POST', body: o.admin }), 'login');
  const cookie = ([] as string[])
    .concat(login.headers['set-cookie'] ?? [])
    .map((c) => c.split(';')[0])
    .join('; ');
  const registry = await must(
    httpJson<{ items: RegistryPoint[]; total: number }>(`${base}/api/v1/points?limit=500`, { cookie }),
    'points',
  );
  const chosen = (spreadOverDistricts ? byDistrictInTurn(registry.body.items) : registry.body.items).slice(0, o.points);
  if (chosen.length < o.points) throw new Error(`the registry has ${chosen.length} points, ${o.points} asked`);
  const now = Date.now();
  const created = await must(
    httpJson<{ id: string }>(`${base}/api/v1/sessions`, {
      method: 'POST',
      cookie,
      body: {
        title: `Tải thử ${o.points} điểm cầu · load test`,
        scheduledStart: new Date(now + 30 * 60_000).toISOString(),
        plannedEnd: new Date(now + 180 * 60_000).toISOString(),
        agenda: [
          {
            title: 'Quán triệt Nghị quyết 05-NQ/TU',
            speaker: 'Lê Ngọc Châu',
            role: 'Phó Chủ tịch UBND tỉnh',
            plannedMinutes: 30,
          },
        ],
        invite:
          o.points === registry.body.total ? { mode: 'all' } : { mode: 'points', pointIds: chosen.map((p) => p.id) },
      },
    }),
    'create session',
  );
  const sessionId = created.body.id;
  await must(httpJson(`${base}/api/v1/sessions/${sessionId}/schedule`, { method: 'POST', cookie }), 'schedule');
  await must(
    httpJson(`${base}/api/v1/sessions/${sessionId}/open-lobby`, { method: 'POST', cookie }),
    'open-lobby',
    [200, 409],
  );
  const links = await must(
    httpJson<{ items: { pointId: string; token: string }[] }>(`${base}/api/v1/sessions/${sessionId}/links?limit=500`, {
      cookie,
    }),
    'links',
  );
  const tokenOf = new Map(links.body.items.map((l) => [l.pointId, l.token]));
  log(`session ${sessionId} in its lobby with ${chosen.length} points`);
  return { cookie, sessionId, chosen, tokenOf };
}

/**
 * The virtual host: a `/host` socket attached to the session asks for a plain ingest,
 * ffmpeg replays the clip into it (VP8 video and Opus audio) unless `feed` is false, and
 * the session goes live. ffmpeg's stderr lands in `errors`.
 */
export async function startVirtualHost(
  hostBase: string,
  briefing: Briefing,
  feed: boolean,
  errors: string[],
  log: (l: string) => void,
): Promise<{ host: HostSocket; ffmpeg?: ChildProcess }> {
  const host = await hostSocket(hostBase, briefing.cookie);
  await ask(host, 'host:attach', { sessionId: briefing.sessionId });
  const vSsrc = 11111111 + Math.floor(Math.random() * 1000);
  const aSsrc = vSsrc + 1000;
  const ingest = await ask(host, 'ingest:plain', {
    video: { ssrc: vSsrc, payloadType: 101 },
    audio: { ssrc: aSsrc, payloadType: 100 },
    // ffmpeg's RTCP leaves from another port than its RTP: with one comedia tuple per
    // transport, whichever came first would win and the other be dropped.
    rtcpMux: false,
  });
  if (!feed) {
    await ask(host, 'session:goLive', {});
    log('virtual host live with an unfed ingest (no media in this run)');
    return { host };
  }
  const ffmpeg = startReplay(
    preparedClip(),
    { ...ingest.video!, rtcpPort: ingest.video!.rtcpPort ?? ingest.video!.port, ssrc: vSsrc, payloadType: 101 },
    { ...ingest.audio!, rtcpPort: ingest.audio!.rtcpPort ?? ingest.audio!.port, ssrc: aSsrc, payloadType: 100 },
  );
  ffmpeg.stderr?.on('data', (d: Buffer) => errors.push(`ffmpeg: ${d.toString().trim().slice(0, 200)}`));
  log(
    `virtual host publishing ${DEFAULT_SOURCE.width}x${DEFAULT_SOURCE.height} VP8 ${DEFAULT_SOURCE.videoKbps} kbps + Opus (ffmpeg pid ${ffmpeg.pid})`,
  );
  await ask(host, 'session:goLive', {});
  return { host, ffmpeg };
}

/** Registry items reordered to take one point of each district in turn (order kept within one). */
function byDistrictInTurn<T extends { district?: string | null }>(items: T[]): T[] {
  const groups = new Map<string, T[]>();
  for (const it of items) {
    const k = it.district ?? '';
    (groups.get(k) ?? groups.set(k, []).get(k)!).push(it);
  }
  const lists = [...groups.values()];
  const out: T[] = [];
  for (let i = 0; out.length < items.length; i++) for (const l of lists) if (i < l.length) out.push(l[i]!);
  return out;
}
