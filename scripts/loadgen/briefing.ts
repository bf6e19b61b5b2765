// The briefing a load run plays: prepared through the REST API as the host console does
// (log in, create, schedule, open the lobby, read the join links; points beyond the
// shipped registry added first), and the virtual host publishing into it through
// `ingest:plain` (the simulcast hall and ffmpeg's audio, or ffmpeg alone), then going live
// (the server refuses a live briefing without the hall).
import type { ChildProcess } from 'node:child_process';
import type { HostSocket } from '../../client/src/net/sockets';
import { ask, hostSocket } from './sockets';
import { httpJson, must } from './http';
import type { LoadOptions } from './options';
import { startHallProcess, type HallHandle } from './hall-process';
import { HALL_LAYERS, preparedLayers } from './simulcast-hall';
import { DEFAULT_SOURCE, preparedClip, startAudioReplay, startReplay } from './source';

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
  /** The points after them that Chromium pages join (options.chromiumPoints). */
  browsers: RegistryPoint[];
  /** Each point's join token. */
  tokenOf: Map<string, string>;
}

/** The briefing's programme, as the reference event's: the host moves through it (./host-acts.ts). */
export const AGENDA = [
  { title: 'Khai mạc', speaker: 'Lãnh đạo Tỉnh ủy', role: 'Chủ trì', plannedMinutes: 10 },
  {
    title: 'Quán triệt Nghị quyết 05-NQ/TU',
    speaker: 'Lê Ngọc Châu',
    role: 'Phó Chủ tịch UBND tỉnh',
    plannedMinutes: 30,
  },
  { title: 'Kế hoạch triển khai năm 2022', speaker: 'Lãnh đạo UBND tỉnh', role: 'Báo cáo viên', plannedMinutes: 30 },
  { title: 'Ý kiến các huyện, thị xã', speaker: 'Đại diện các địa phương', role: 'Điểm cầu', plannedMinutes: 30 },
  { title: 'Giải đáp kiến nghị', speaker: 'Các sở, ngành', role: 'Báo cáo viên', plannedMinutes: 15 },
  { title: 'Kết luận', speaker: 'Lãnh đạo Tỉnh ủy', role: 'Chủ trì', plannedMinutes: 10 },
];

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
  const wanted = o.points + (o.chromiumPoints ?? 0);
  let items = await allPages<RegistryPoint>(`${base}/api/v1/points`, cookie, 'points');
  if (items.length < wanted) {
    await addPoints(base, cookie, items, wanted - items.length);
    log(`registry: ${wanted - items.length} points added for this run (${items.length} shipped)`);
    items = await allPages<RegistryPoint>(`${base}/api/v1/points`, cookie, 'points');
  }
  const registry = { body: { items, total: items.length } };
  const invited = (spreadOverDistricts ? byDistrictInTurn(registry.body.items) : registry.body.items).slice(0, wanted);
  if (invited.length < wanted) throw new Error(`the registry has ${invited.length} points, ${wanted} asked`);
  const chosen = invited.slice(0, o.points);
  const now = Date.now();
  const created = await must(
    httpJson<{ id: string }>(`${base}/api/v1/sessions`, {
      method: 'POST',
      cookie,
      body: {
        title: `Tải thử ${o.points} điểm cầu · load test`,
        scheduledStart: new Date(now + 30 * 60_000).toISOString(),
        plannedEnd: new Date(now + 180 * 60_000).toISOString(),
        agenda: AGENDA,
        invite:
          wanted === registry.body.total ? { mode: 'all' } : { mode: 'points', pointIds: invited.map((p) => p.id) },
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
  const links = await allPages<{ pointId: string; token: string }>(
    `${base}/api/v1/sessions/${sessionId}/links`,
    cookie,
    'links',
  );
  const tokenOf = new Map(links.map((l) => [l.pointId, l.token]));
  log(`session ${sessionId} in its lobby with ${chosen.length} points`);
  return { cookie, sessionId, chosen, browsers: invited.slice(o.points), tokenOf };
}

/**
 * The virtual host: a `/host` socket attached to the session asks for a plain ingest and
 * the session goes live. Fed (unless `feed` is false) by the simulcast hall (three VP8
 * layers from Node, answering key-frame requests) with ffmpeg replaying the audio, or with
 * `lightHall` by ffmpeg alone (one 640x360 layer, key-frame requests ignored). ffmpeg's
 * stderr lands in `errors`.
 */
export async function startVirtualHost(
  hostBase: string,
  briefing: Briefing,
  feed: { media: boolean; lightHall: boolean },
  errors: string[],
  log: (l: string) => void,
): Promise<{ host: HostSocket; ffmpeg?: ChildProcess; hall?: HallHandle }> {
  const simulcast = feed.media && !feed.lightHall;
  // The layers are encoded (once, blocking) before any socket of the host is open.
  const layerFiles = simulcast ? preparedLayers() : [];
  const host = await hostSocket(hostBase, briefing.cookie);
  await ask(host, 'host:attach', { sessionId: briefing.sessionId });
  const vSsrc = 11111111 + Math.floor(Math.random() * 1000);
  const aSsrc = vSsrc + 1000;
  const layerSsrcs = HALL_LAYERS.map((_, i) => vSsrc + i);
  const ingest = await ask(host, 'ingest:plain', {
    video: { ssrc: vSsrc, payloadType: 101, ...(simulcast ? { simulcastSsrcs: layerSsrcs.slice(1) } : {}) },
    audio: { ssrc: aSsrc, payloadType: 100 },
    // ffmpeg's RTCP leaves from another port than its RTP: with one comedia tuple per
    // transport, whichever came first would win and the other be dropped. The simulcast
    // hall sends its sender reports to the RTCP port from its RTP socket, and the SFU's
    // feedback comes back there.
    rtcpMux: false,
  });
  if (!feed.media) {
    await ask(host, 'session:goLive', {});
    log('virtual host live with an unfed ingest (no media in this run)');
    return { host };
  }
  const audio = {
    ...ingest.audio!,
    rtcpPort: ingest.audio!.rtcpPort ?? ingest.audio!.port,
    ssrc: aSsrc,
    payloadType: 100,
  };
  let hall: HallHandle | undefined;
  let ffmpeg: ChildProcess;
  if (simulcast) {
    const v = ingest.video!;
    hall = await startHallProcess({
      files: layerFiles,
      ssrcs: layerSsrcs,
      payloadType: 101,
      target: { ip: v.ip, port: v.port, rtcpPort: v.rtcpPort ?? v.port },
    });
    ffmpeg = startAudioReplay(preparedClip(), audio);
    log(
      `virtual host publishing VP8 simulcast ${HALL_LAYERS.map((l) => `${l.width}x${l.height}@${l.kbps}k`).join(' + ')} (pid ${hall.pid}) + Opus (ffmpeg pid ${ffmpeg.pid})`,
    );
  } else {
    ffmpeg = startReplay(
      preparedClip(),
      { ...ingest.video!, rtcpPort: ingest.video!.rtcpPort ?? ingest.video!.port, ssrc: vSsrc, payloadType: 101 },
      audio,
    );
    log(
      `virtual host publishing ${DEFAULT_SOURCE.width}x${DEFAULT_SOURCE.height} VP8 ${DEFAULT_SOURCE.videoKbps} kbps + Opus (ffmpeg pid ${ffmpeg.pid})`,
    );
  }
  ffmpeg.stderr?.on('data', (d: Buffer) => errors.push(`ffmpeg: ${d.toString().trim().slice(0, 200)}`));
  await ask(host, 'session:goLive', {});
  return { host, ffmpeg, ...(hall ? { hall } : {}) };
}

/** Every item of a paged list (500 a page). */
async function allPages<T>(url: string, cookie: string, what: string): Promise<T[]> {
  const out: T[] = [];
  for (;;) {
    const page = await must(
      httpJson<{ items: T[]; total: number }>(`${url}?limit=500&offset=${out.length}`, { cookie }),
      what,
    );
    out.push(...page.body.items);
    if (!page.body.items.length || out.length >= page.body.total) return out;
  }
}

/**
 * More points than the shipped registry holds (a capacity curve beyond the reference
 * event): commune points `LG-0001`… under the registry's districts in turn, 40 delegates
 * each, added in one merge import through the admin API (the registry is written as a
 * whole, so one-by-one adds in parallel conflict).
 */
async function addPoints(base: string, cookie: string, existing: RegistryPoint[], count: number): Promise<void> {
  const districts = [...new Set(existing.map((p) => p.district).filter((d): d is string => !!d))];
  const points = Array.from({ length: count }, (_, k) => {
    const i = k + 1;
    const district = districts[i % Math.max(1, districts.length)] ?? null;
    return {
      code: `LG-${String(i).padStart(4, '0')}`,
      name: `Điểm cầu tải thử ${i}`,
      level: 'commune',
      parent: district,
      district,
      expectedDelegates: 40,
    };
  });
  await must(
    httpJson(`${base}/api/v1/points/import?format=json&mode=merge`, { method: 'POST', cookie, body: { points } }),
    'add points',
    [200],
  );
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
