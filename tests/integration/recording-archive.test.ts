// A recorded briefing from the hall to its archive, with real components: a mediasoup
// worker, the hall fed by ffmpeg over plain RTP, the slides and a point's floor sent over
// real WebRTC transports from Node (werift), Debian's ffmpeg recording the taps and then
// making the archive in its BullMQ job, ffprobe reading what came out, and the recordings'
// routes as the host console calls them.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import type { Socket } from 'socket.io-client';
import type { RecordingManifest } from '../../server/contract/recording';
import { RecordingManifestSchema } from '../../server/contract/recording';
import { receiveCapabilities } from '../../scripts/loadgen/werift-link';
import { ask, loginCookie } from '../helpers/attendance';
import { connectSocket, prepareBriefing, REFERENCE_AGENDA } from '../helpers/briefing';
import { waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { recordingServer } from '../helpers/recording';
import { RtpPeer } from '../helpers/rtp-peer';
import { tiedSpawn } from '../../server/platform/tied-spawn';

jest.setTimeout(400_000);

const POINT = 'HT-CX';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

interface Stream {
  ssrc: number;
  payloadType: number;
}
interface Endpoint {
  ip: string;
  port: number;
  rtcpPort?: number;
}

/** ffmpeg sending a test picture (VP8, a key frame a second) and, if asked, a tone (Opus). */
function sendRtp(picture: string, video: Stream & { to: Endpoint }, audio?: Stream & { to: Endpoint }): ChildProcess {
  const url = (e: Endpoint) => `rtp://${e.ip}:${e.port}?rtcpport=${e.rtcpPort ?? e.port}&pkt_size=1200`;
  return tiedSpawn(
    'ffmpeg',
    [
      ...['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', `${picture}=size=320x180:rate=15`],
      ...(audio ? ['-f', 'lavfi', '-i', 'sine=frequency=440'] : []),
      ...['-map', '0:v', '-c:v', 'libvpx', '-b:v', '200k', '-deadline', 'realtime', '-cpu-used', '8', '-g', '15'],
      ...['-ssrc', String(video.ssrc), '-payload_type', String(video.payloadType), '-f', 'rtp', url(video.to)],
      ...(audio
        ? [
            ...['-map', '1:a', '-c:a', 'libopus', '-b:a', '32k', '-ssrc', String(audio.ssrc)],
            ...['-payload_type', String(audio.payloadType), '-f', 'rtp', url(audio.to)],
          ]
        : []),
    ],
    { stdio: 'ignore' },
  );
}

function probe(file: string) {
  const r = spawnSync(
    'ffprobe',
    [
      ...['-v', 'error', '-show_chapters', '-of', 'json'],
      ...['-show_entries', 'stream=index,codec_name,codec_type,width:stream_tags=title:format=duration'],
      file,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(r.stdout) as {
    streams: { codec_name: string; codec_type: string; width?: number; tags?: { title?: string } }[];
    chapters: { start_time: string; end_time: string; tags: { title: string } }[];
    format: { duration: string };
  };
}

describe('the archive of a recorded briefing (real worker, WebRTC from Node, ffmpeg, BullMQ)', () => {
  let o: TestOrchestrator;
  let dir: string;
  const children: ChildProcess[] = [];
  const peers: RtpPeer[] = [];
  const closers: (() => void)[] = [];
  const sockets: Socket[] = [];

  recordingServer(
    'archive',
    {
      // A small program, and a niceness the test can tell from the default (the machine
      // running the tests is busy: at 19 the encode would wait behind everything).
      ARCHIVE_HEIGHT: '360',
      ARCHIVE_NICE: '3',
    },
    (s) => ({ o, dir } = s),
    async () => {
      for (const c of children) c.kill('SIGKILL');
      for (const c of closers) c();
      for (const p of peers) await p.close();
      for (const s of sockets) s.close();
    },
  );

  /** What a page does to send: a WebRTC send transport, one producer per source, ffmpeg's RTP through it. */
  async function produce(
    socket: Socket,
    picture: string,
    video: Stream & { source: string },
    audio?: Stream & { source: string },
  ): Promise<string[]> {
    const { routerRtpCapabilities } = await ask<{ routerRtpCapabilities: unknown }>(socket, 'rtc:capabilities');
    const t = await ask<{ id: string } & Parameters<RtpPeer['connect']>[0]>(socket, 'rtc:createTransport', {
      direction: 'send',
      rtpCapabilities: receiveCapabilities(routerRtpCapabilities as never, true),
    });
    await ask(socket, 'rtc:connectTransport', { transportId: t.id, dtlsParameters: await RtpPeer.dtlsParameters() });
    const peer = new RtpPeer();
    peers.push(peer);
    await peer.connect(t);
    const ids: string[] = [];
    const v = await ask<{ id: string }>(socket, 'rtc:produce', {
      transportId: t.id,
      kind: 'video',
      source: video.source,
      rtpParameters: {
        codecs: [
          {
            mimeType: 'video/VP8',
            payloadType: video.payloadType,
            clockRate: 90000,
            rtcpFeedback: [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }],
          },
        ],
        encodings: [{ ssrc: video.ssrc }],
        rtcp: { cname: video.source },
      },
    });
    ids.push(v.id);
    if (audio) {
      const a = await ask<{ id: string }>(socket, 'rtc:produce', {
        transportId: t.id,
        kind: 'audio',
        source: audio.source,
        rtpParameters: {
          codecs: [{ mimeType: 'audio/opus', payloadType: audio.payloadType, clockRate: 48000, channels: 2 }],
          encodings: [{ ssrc: audio.ssrc }],
          rtcp: { cname: audio.source },
        },
      });
      ids.push(a.id);
    }
    const fwd = await peer.forwardRtpFrom();
    closers.push(fwd.close);
    const to = { ip: '127.0.0.1', port: fwd.port };
    children.push(sendRtp(picture, { ...video, to }, audio ? { ...audio, to } : undefined));
    return ids;
  }

  test('hall, slides and floor recorded; the archive plays with a chapter per item; the routes guard it', async () => {
    const b = await prepareBriefing(o.baseUrl, [POINT]);
    const host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    sockets.push(host);
    await ask(host, 'host:attach', { sessionId: b.sessionId });
    const hall = await ask<{ video: Endpoint; audio: Endpoint }>(host, 'ingest:plain', {
      video: { ssrc: 1111, payloadType: 101 },
      audio: { ssrc: 2222, payloadType: 100 },
    });
    children.push(
      sendRtp(
        'testsrc2',
        { ssrc: 1111, payloadType: 101, to: hall.video },
        { ssrc: 2222, payloadType: 100, to: hall.audio },
      ),
    );
    const point = await connectSocket(o.baseUrl, '/point', {
      token: b.links.find((l) => l.pointId === POINT)!.token,
    });
    sockets.push(point);
    await sleep(800);

    await ask(host, 'session:goLive');
    const manifest = (): RecordingManifest | undefined => {
      const file = path.join(dir, b.sessionId, 'manifest.json');
      return fs.existsSync(file) ? RecordingManifestSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8'))) : undefined;
    };
    const recorded = (source: string) =>
      manifest()?.tracks.some((t) => t.source === source && t.segments.length > 0) ?? false;
    await waitFor(() => recorded('host-camera') && recorded('host-mic'), 'the hall recorded', 30_000);

    // The slides, shared from the host's console.
    const [slides] = await produce(host, 'smptebars', { source: 'host-screen', ssrc: 3333, payloadType: 101 });
    await ask(host, 'slides:set', { on: true });
    await ask(host, 'agenda:go', { index: 1 });

    // The point is given the floor and speaks.
    const granted = new Promise<void>((resolve) =>
      point.on('floor:you', (f: { granted: boolean }) => f.granted && resolve()),
    );
    await ask(host, 'floor:grant', { pointId: POINT });
    await granted;
    await produce(
      point,
      'mandelbrot',
      { source: 'floor-camera', ssrc: 4444, payloadType: 101 },
      { source: 'floor-mic', ssrc: 5555, payloadType: 100 },
    );
    await waitFor(
      () => ['host-screen', 'floor-camera', 'floor-mic'].every(recorded),
      'the slides and the floor recorded',
      45_000,
    );
    await sleep(2000);
    await ask(host, 'floor:revoke');
    await ask(host, 'rtc:closeProducer', { producerId: slides });
    await ask(host, 'slides:set', { on: false });
    await sleep(1500);
    await ask(host, 'session:end');

    const m = await waitFor(() => (manifest()?.state === 'stopped' ? manifest() : undefined), 'the final manifest');
    expect(m.tracks.map((t) => [t.source, t.codec]).sort()).toEqual([
      ['floor-camera', 'video/VP8'],
      ['floor-mic', 'audio/opus'],
      ['host-camera', 'video/VP8'],
      ['host-mic', 'audio/opus'],
      ['host-screen', 'video/VP8'],
    ]);
    for (const t of m.tracks) {
      expect([t.source, t.pointId]).toEqual([t.source, t.source.startsWith('floor-') ? POINT : null]);
      expect([t.source, t.endedAt !== null]).toEqual([t.source, true]);
    }
    // The floor's tracks end when the floor is taken back, not with the session.
    const floorEnd = Date.parse(m.tracks.find((t) => t.source === 'floor-camera')!.endedAt!);
    expect(floorEnd).toBeLessThan(Date.parse(m.stoppedAt!));

    // The archive, made by its job after the end; the host follows its progress.
    const admin = request(o.baseUrl);
    const detail = async () =>
      (await admin.get(`/api/v1/recordings/${b.sessionId}`).set('Cookie', b.cookie).expect(200)).body as {
        job: { state: string; progress: number } | null;
        archive: { file: string; sha256: string; bytes: number; niceness: number } | null;
      };
    const progress = new Set<number>();
    const done = await waitFor(
      async () => {
        const d = await detail();
        if (d.job) progress.add(d.job.progress);
        expect(d.job?.state).not.toBe('failed');
        if (d.job?.state === 'done' && d.archive) return d;
        throw new Error(`job ${JSON.stringify(d.job)}`);
      },
      'the archive job',
      300_000,
      500,
    );
    expect(progress.has(100)).toBe(true);
    const archive = done.archive!;
    const file = path.join(dir, b.sessionId, archive.file);
    expect(archive.file).toBe('archive.webm');
    // The encoder ran at the niceness asked for, as the system reported it.
    expect(archive.niceness).toBe(3);
    expect(sha256(file)).toBe(archive.sha256);
    expect(fs.statSync(file).size).toBe(archive.bytes);

    const p = probe(file);
    // As long as the session was live, to a second.
    const live = m.timeline.find((e) => e.type === 'state' && e.to === 'live')!;
    const ended = m.timeline.find((e) => e.type === 'state' && e.to === 'ended')!;
    const liveSeconds = (Date.parse(ended.at) - Date.parse(live.at)) / 1000;
    expect(Math.abs(Number(p.format.duration) - liveSeconds)).toBeLessThan(1);
    // The program (re-encoded, 640x360 here) first, then every original track as received.
    expect(p.streams.slice(0, 2).map((s) => [s.codec_type, s.codec_name, s.tags?.title])).toEqual([
      ['video', 'vp8', 'program'],
      ['audio', 'opus', 'program'],
    ]);
    expect(p.streams[0]!.width).toBe(640);
    expect(p.streams.slice(2).map((s) => s.tags?.title)).toEqual(m.tracks.map((t) => t.id));
    // A chapter per agenda item on the air, titled, starting when the host moved to it.
    expect(p.chapters.map((c) => c.tags.title)).toEqual([
      `1. ${REFERENCE_AGENDA[0]!.title}`,
      `2. ${REFERENCE_AGENDA[1]!.title}`,
    ]);
    const second = m.timeline.find((e) => e.type === 'agenda' && e.index === 1)!;
    const secondAt = (Date.parse(second.at) - Date.parse(m.startedAt)) / 1000;
    expect(Math.abs(Number(p.chapters[1]!.start_time) - secondAt)).toBeLessThan(0.5);

    // Played from the route, seeking: a range answers 206.
    const part = await admin
      .get(`/api/v1/recordings/${b.sessionId}/archive`)
      .set('Cookie', b.cookie)
      .set('Range', 'bytes=0-99')
      .expect(206);
    expect(part.headers['content-type']).toMatch(/video\/webm/);
    expect(Number(part.headers['content-length'])).toBe(100);
    // Every checksum holds; one changed byte is found.
    const verify = async () =>
      (await admin.post(`/api/v1/recordings/${b.sessionId}/verify`).set('Cookie', b.cookie).expect(200)).body as {
        ok: boolean;
        checked: number;
        mismatches: string[];
      };
    expect(await verify()).toMatchObject({ ok: true, mismatches: [] });
    const seg = m.tracks[0]!.segments[0]!.file;
    const segFile = path.join(dir, b.sessionId, seg);
    const bytes = fs.readFileSync(segFile);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 0xff, bytes.length - 1);
    fs.writeFileSync(segFile, bytes);
    expect(await verify()).toMatchObject({ ok: false, mismatches: [seg] });

    // Admins and hosts only; deleting is the admin's, confirmed with the session id.
    await request(o.baseUrl).get('/api/v1/recordings').expect(401);
    const tech = await loginCookie(o, 'technician');
    await admin.get('/api/v1/recordings').set('Cookie', tech).expect(403);
    await admin.get(`/api/v1/recordings/${b.sessionId}/archive`).set('Cookie', tech).expect(403);
    const hostCookie = await loginCookie(o, 'host');
    const list = (await admin.get('/api/v1/recordings').set('Cookie', hostCookie).expect(200)).body as {
      sessionId: string;
    }[];
    expect(list.map((x) => x.sessionId)).toContain(b.sessionId);
    await admin
      .delete(`/api/v1/recordings/${b.sessionId}`)
      .set('Cookie', hostCookie)
      .send({ confirm: b.sessionId })
      .expect(403);
    await admin.delete(`/api/v1/recordings/${b.sessionId}`).set('Cookie', b.cookie).send({ confirm: 'x' }).expect(400);
    await admin
      .delete(`/api/v1/recordings/${b.sessionId}`)
      .set('Cookie', b.cookie)
      .send({ confirm: b.sessionId })
      .expect(204);
    expect(fs.existsSync(path.join(dir, b.sessionId))).toBe(false);
    await admin.get(`/api/v1/recordings/${b.sessionId}`).set('Cookie', b.cookie).expect(404);
  });
});
