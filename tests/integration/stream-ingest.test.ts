// The hall from an SRT or RTMP encoder, with real components: the session's listener is
// Debian's ffmpeg, the encoder another ffmpeg sending a test pattern and a tone on
// loopback (H.264 + AAC, in MPEG-TS over SRT or FLV over RTMP, as hardware encoders and
// OBS send). A wrong passphrase or key gets nothing in; the right one becomes the hall's
// camera (transcoded to three VP8 simulcast layers) and microphone (Opus) at the origin,
// the live source in auto; when the encoder stops, the ingest goes and the listener waits
// again.
import type { ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { Socket } from 'socket.io-client';
import { freePort as freeTcpPort, freeUdpPort } from '../../scripts/loadgen/http';
import { ask } from '../helpers/attendance';
import { ADMIN_ENV, connectSocket, prepareBriefing, type PreparedBriefing } from '../helpers/briefing';
import { encoderOutput, type EncoderProtocol } from '../helpers/hall-feed';
import { startTestOrchestrator, waitFor, type TestOrchestrator } from '../helpers/orchestrator';
import { startTestRedis, type TestRedis } from '../helpers/redis';
import { tiedSpawn } from '../../server/platform/tied-spawn';

interface SrtStatus {
  url: string | null;
  port: number | null;
  passphrase: string | null;
  state: 'off' | 'listening' | 'receiving';
}

/** A port free a moment ago (the listener binds it next): UDP for SRT, TCP for RTMP. */
const freePort = (protocol: EncoderProtocol) => (protocol === 'rtmp' ? freeTcpPort() : freeUdpPort());

/**
 * ffmpeg as an encoder: H.264 + AAC test pattern and tone, in real time, until killed.
 * `url` is the listener's (see encoderOutput).
 */
function encoder(protocol: EncoderProtocol, url: string | null): ChildProcess {
  const out = encoderOutput(protocol, url);
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-nostdin', '-re'],
    ...[
      '-f',
      'lavfi',
      '-i',
      'testsrc=size=640x360:rate=25',
      '-f',
      'lavfi',
      '-i',
      'sine=frequency=440:sample_rate=48000',
    ],
    ...['-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '25', '-pix_fmt', 'yuv420p'],
    ...['-c:a', 'aac', '-b:a', '96k', ...out],
  ];
  return tiedSpawn('ffmpeg', args, { stdio: ['ignore', 'ignore', 'pipe'], cwd: os.tmpdir() });
}

const exited = (p: ChildProcess) =>
  new Promise<number | null>((resolve) => (p.exitCode !== null ? resolve(p.exitCode) : p.once('exit', resolve)));

describe.each(['srt', 'rtmp'] as const)('%s ingest (ffmpeg listener, ffmpeg encoder)', (protocol) => {
  let r: TestRedis;
  let o: TestOrchestrator;
  let b: PreparedBriefing;
  let host: Socket;
  let port: number;
  const pushes: SrtStatus[] = [];
  const views: { hall: { live: string | null } }[] = [];
  const running: ChildProcess[] = [];

  const request = `ingest:${protocol}`;
  const room = async () => (await o.orchestrator.realtime.broadcasts.peek(b.sessionId)!).room!;
  const ingestProducers = async () => (await room()).listProducers().filter((p) => p.peerId.startsWith('ingest-'));

  beforeAll(async () => {
    port = await freePort(protocol);
    r = await startTestRedis();
    o = await startTestOrchestrator(r.url, {
      ...ADMIN_ENV,
      [protocol === 'srt' ? 'SRT_INGEST_PORTS' : 'RTMP_INGEST_PORTS']: `${port}-${port}`,
      INGEST_LISTEN_IP: '127.0.0.1',
    });
    b = await prepareBriefing(o.baseUrl, ['HT-CX']);
    host = await connectSocket(o.baseUrl, '/host', { cookie: b.cookie });
    host.on(protocol, (s: SrtStatus) => pushes.push(s));
    host.on('view', (v: { hall: { live: string | null } }) => views.push(v));
    await ask(host, 'host:attach', { sessionId: b.sessionId });
  }, 60_000);
  afterAll(async () => {
    for (const p of running) p.kill('SIGKILL');
    host?.close();
    await o?.stop();
    await r?.cleanup();
  });

  // Each test starts from the listener state it needs (closed, or opened: opening an open
  // one changes nothing), so that a retried test does not depend on the others.
  test('the console opens a listener with a passphrase; the only port is then taken', async () => {
    expect(await ask<SrtStatus>(host, request, { open: false })).toMatchObject({ state: 'off', url: null });
    expect(await ask<SrtStatus>(host, request, {})).toMatchObject({ state: 'off', url: null });
    const s = await ask<SrtStatus>(host, request, { open: true });
    expect(s.state).toBe('listening');
    expect(s.port).toBe(port);
    expect(s.passphrase!.length).toBeGreaterThanOrEqual(32);
    expect(s.url).toBe(
      protocol === 'srt'
        ? `srt://127.0.0.1:${port}?passphrase=${s.passphrase}&pbkeylen=16`
        : `rtmp://127.0.0.1:${port}/${s.passphrase}/hall`,
    );
    // Opening again changes nothing.
    expect(await ask<SrtStatus>(host, request, { open: true })).toEqual(s);
    // Another session finds no free port.
    const other = await prepareBriefing(o.baseUrl, ['HT-DT']);
    const host2 = await connectSocket(o.baseUrl, '/host', { cookie: other.cookie });
    await ask(host2, 'host:attach', { sessionId: other.sessionId });
    await expect(ask(host2, request, { open: true })).rejects.toMatchObject({ code: 'limit_exceeded' });
    host2.close();
  });

  test('an encoder with a wrong passphrase or key gets nothing in', async () => {
    const { url, passphrase } = await ask<SrtStatus>(host, request, { open: true });
    expect(url).toMatch(new RegExp(`^${protocol}://`));
    const wrong = encoder(protocol, url!.replace(passphrase!, 'not-the-passphrase-of-this-session'));
    running.push(wrong);
    // The handshake is refused: the encoder gives up by itself.
    expect(await exited(wrong)).not.toBe(0);
    expect(await ingestProducers()).toEqual([]);
    expect((await ask<SrtStatus>(host, request, {})).state).toBe('listening');
  }, 60_000);

  test('the right passphrase or key: the hall arrives at the origin as three VP8 layers and Opus, the live source', async () => {
    const { url } = await ask<SrtStatus>(host, request, { open: true });
    expect(url).toMatch(new RegExp(`^${protocol}://`));
    const from = pushes.length;
    let enc = encoder(protocol, url);
    running.push(enc);
    await waitFor(
      () => {
        // An RTMP listener that dropped the wrong key is back within a second or two: retry until then.
        if (enc.exitCode !== null) running.push((enc = encoder(protocol, url)));
        return pushes.slice(from).some((p) => p.state === 'receiving');
      },
      'the listener to say receiving',
      30_000,
      500,
    );
    const producers = await waitFor(
      async () => {
        const list = await ingestProducers();
        return list.length === 2 ? list : undefined;
      },
      'the ingest producers',
      30_000,
    );
    expect(producers.map((p) => p.source).sort()).toEqual(['host-camera', 'host-mic']);
    const r = await room();
    for (const p of producers) {
      await waitFor(
        async () => (await r.getProducerStats(p.producerId)).streams.some((s) => s.packetCount > 50),
        `RTP of ${p.source} at the origin`,
        30_000,
      );
    }
    // The camera comes in three simulcast layers, each its own SSRC, each flowing.
    const camera = producers.find((p) => p.source === 'host-camera')!;
    const bytes = async () =>
      new Map((await r.getProducerStats(camera.producerId)).streams.map((s) => [s.ssrc, s.byteCount]));
    const before = await bytes();
    await waitFor(
      async () => {
        const now = await bytes();
        return now.size === 3 && [...now].every(([ssrc, n]) => n > (before.get(ssrc) ?? 0));
      },
      'three layers of the camera flowing at the origin',
      30_000,
    );
    await waitFor(() => views.at(-1)?.hall.live === 'ingest', 'the ingest to be the live source');

    // The encoder stops: the ingest closes, the listener waits for it again.
    enc.kill('SIGKILL');
    await waitFor(async () => (await ingestProducers()).length === 0, 'the ingest to close', 30_000);
    await waitFor(
      async () => (await ask<SrtStatus>(host, request, {})).state === 'listening',
      'listening again',
      30_000,
    );
  }, 120_000);

  test('closing the listener frees it', async () => {
    expect((await ask<SrtStatus>(host, request, { open: false })).state).toBe('off');
  });
});
