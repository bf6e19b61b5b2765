// The archive job beside a live briefing on the same node, with real components: one
// server (a mediasoup worker, Debian's ffmpeg recording and then encoding the archive in
// its BullMQ job), two sessions each fed by ffmpeg over plain RTP, and a point of the live
// one receiving over a real WebRTC transport from Node (werift), counting every RTP packet
// and every sequence number missing. While the first session's archive encodes, the second
// session's media must keep arriving, none lost on loopback, and the encoder must run at
// the niceness the node was given (read from /proc, not from what the server says).
import path from 'node:path';
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'socket.io-client';
import { ask } from '../helpers/attendance';
import { connectSocket, prepareBriefing } from '../helpers/briefing';
import { ok } from '../helpers/cluster';
import { feedHall } from '../helpers/hall-feed';
import { MediaSide } from '../helpers/media-side';
import { waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { processNice, processesWithArg, running } from '../helpers/procfs';
import { recordingServer, segmentsOf } from '../helpers/recording';

jest.setTimeout(400_000);

const POINT = 'HT-CX';
const NICE = 7;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('an archive encoding on the node of a live briefing (real worker, ffmpeg, WebRTC from Node)', () => {
  let o: TestOrchestrator;
  let dir: string;
  const feeds: ChildProcess[] = [];
  const sockets: Socket[] = [];
  let point: MediaSide | undefined;

  recordingServer(
    'archive-live',
    {
      ARCHIVE_HEIGHT: '360',
      ARCHIVE_NICE: String(NICE),
    },
    (s) => ({ o, dir } = s),
    async () => {
      for (const f of feeds) f.kill('SIGKILL');
      await point?.close();
      for (const s of sockets) s.close();
    },
  );

  /** A session live, its own host console attached and its hall fed by ffmpeg. */
  async function liveSession() {
    const b = await prepareBriefing(o.baseUrl, [POINT]);
    const host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie, own: true });
    sockets.push(host);
    await ask(host, 'host:attach', { sessionId: b.sessionId });
    feeds.push(await feedHall(host));
    await sleep(800);
    await ask(host, 'session:goLive');
    return { b, host };
  }

  test('the live point loses nothing while the encoder runs at the configured niceness', async () => {
    // The session to archive: recorded long enough for an encode that lasts.
    const recorded = await liveSession();
    const segments = () => segmentsOf(dir, recorded.b.sessionId, 'host-camera');

    // The live session, and its point receiving the hall.
    const live = await liveSession();
    const socket = await connectSocket(o.baseUrl, '/point', {
      token: live.b.links.find((l) => l.pointId === POINT)!.token,
      own: true,
    });
    point = new MediaSide('point', socket);
    await point.openRecv();
    const listed = async () =>
      ((await ok(socket, 'view:get')) as { producers: { producerId: string; source: string }[] }).producers;
    await point.consumeNew('host-camera', listed);
    await point.consumeNew('host-mic', listed);
    await point.receiving(['host-camera', 'host-mic']);

    await waitFor(() => segments() >= 4, 'eight seconds of the first session recorded', 90_000, 250);
    await ask(recorded.host, 'session:end');

    // The encoder of that session's archive, as the system sees it.
    const work = `${path.join(dir, recorded.b.sessionId, '.archive')}/`;
    const pid = await waitFor(() => processesWithArg(work)[0], 'the archive encoder', 120_000, 20);
    expect(processNice(pid)).toBe(NICE);
    const camera = () => point!.received('host-camera');
    const mic = () => point!.received('host-mic');
    const first = { camera: camera(), mic: mic() };
    // Watched from the encoder's start until the point has had a few seconds of media,
    // whether the encode ends before (on a quiet machine it can take under a second) or
    // after: the window holds the encode's start and either its end or three seconds of it.
    const enough = () => camera().packets - first.camera.packets > 45 && mic().packets - first.mic.packets > 150;
    await waitFor(() => enough() || undefined, 'a few seconds of media at the live point', 60_000, 100);
    const last = { camera: camera(), mic: mic() };
    // Packets kept arriving through it, none missing.
    expect([last.camera.lost, last.mic.lost]).toEqual([0, 0]);
    // Still at that niceness at the end of the watch, if it still runs.
    if (running(pid)) expect(processNice(pid)).toBe(NICE);
  });
});
