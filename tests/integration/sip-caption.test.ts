// The agenda caption in the picture room systems receive: a room system (SIPp in a network
// namespace, plain RTP) takes the hall's H.264 from the one transcoder of the session, and
// ffmpeg in the namespace decodes what arrives on its video port, keeping the bottom band
// of each frame. The hall is a still grey picture, so the band changes only with what the
// transcoder draws: nothing before the briefing is live (no agenda item), the first item's
// caption once it is, another one when the host moves the agenda, always from the same
// transcoder process. With SIP_CAPTION=off the band stays grey whatever the agenda does.
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Socket } from 'socket.io-client';
import request from 'supertest';
import { ask } from '../helpers/attendance';
import { connectSocket } from '../helpers/briefing';
import { netnsUnavailable, requireNetnsInCi } from '../helpers/netns';
import { waitFor } from '../helpers/orchestrator';
import { childrenWithArg } from '../helpers/procfs';
import { openTestHall, startSipServer, type SipServer, type TestHall } from '../helpers/sip-server';
import { heldScenario, runSipp, sdpOffer, type SippRun } from '../helpers/sipp';
import { tiedSpawn } from '../../server/platform/tied-spawn';

const cannot = netnsUnavailable();
const VIDEO_PORT = 17000;
const AUDIO_PORT = 17002;
/** The hall: mid grey, still. */
const GREY = 'color=c=0x808080:size=640x360:rate=15';
/** The bottom quarter of each frame (the hall is 640x360), one byte of luma per pixel. */
const BAND = { w: 640, h: 90 };
const BAND_BYTES = BAND.w * BAND.h;
const KEEP = 60;
/**
 * The hall's transcoder starts with the first call; on a loaded machine its first packet
 * came 6-22 s after the call was up, once more than 30 s (as in sip-floor.test.ts).
 */
const FIRST_PICTURE_MS = 60_000;

/** The transcoders this test's server runs (their input SDP lives in a sip-feed- folder). */
const transcoders = () => childrenWithArg(process.pid, 'sip-feed-');

/** Frames of the band as ffmpeg in the namespace decodes them from the room system's video port. */
class BandReceiver {
  /** The last KEEP frames decoded, and how many were in all. */
  readonly frames: Buffer[] = [];
  count = 0;
  stderr = '';
  readonly #proc: ChildProcess;
  readonly #dir: string;
  #pending = Buffer.alloc(0);

  /** `payloadType`: the one the room system offered for its video (RFC 3264 5.1: what it expects to receive). */
  constructor(s: SipServer, payloadType: number) {
    this.#dir = fs.mkdtempSync(path.join(os.tmpdir(), 'caption-rx-'));
    const sdp = path.join(this.#dir, 'in.sdp');
    const ip = s.net.pointIp;
    fs.writeFileSync(
      sdp,
      [
        ...['v=0', `o=- 0 0 IN IP4 ${ip}`, 's=room', `c=IN IP4 ${ip}`, 't=0 0'],
        ...[`m=video ${VIDEO_PORT} RTP/AVP ${payloadType}`, `a=rtpmap:${payloadType} H264/90000`],
        `a=fmtp:${payloadType} packetization-mode=1`,
        ...[`m=audio ${AUDIO_PORT} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', ''],
      ].join('\n'),
    );
    this.#proc = tiedSpawn(
      'ip',
      [
        ...['netns', 'exec', s.net.name, 'ffmpeg', '-hide_banner', '-loglevel', 'error', '-nostdin'],
        // Waits for the first packet however late it comes, as the gateway's own transcoders do
        // (ffmpeg's SDP input otherwise gives up after 10 s without one: "Connection timed out").
        ...['-protocol_whitelist', 'file,udp,rtp', '-listen_timeout', '-1', '-i', sdp],
        ...[
          '-vf',
          `crop=iw:ih/4:0:ih*3/4,scale=${BAND.w}:${BAND.h}`,
          '-map',
          '0:v',
          '-f',
          'rawvideo',
          '-pix_fmt',
          'gray',
          'pipe:1',
        ],
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.#proc.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-2000)));
    this.#proc.stdout!.on('data', (d: Buffer) => {
      this.#pending = Buffer.concat([this.#pending, d]);
      while (this.#pending.length >= BAND_BYTES) {
        this.frames.push(this.#pending.subarray(0, BAND_BYTES));
        if (this.frames.length > KEEP) this.frames.shift();
        this.count += 1;
        this.#pending = this.#pending.subarray(BAND_BYTES);
      }
    });
  }

  get latest(): Buffer | undefined {
    return this.frames.at(-1);
  }

  stop(): void {
    this.#proc.kill('SIGKILL');
    fs.rmSync(this.#dir, { recursive: true, force: true });
  }
}

/** A caption's box darkens the grey: the share of the band's pixels far below mid grey. */
const darkShare = (band: Buffer) => band.filter((v) => v < 90).length / band.length;
const captioned = (band: Buffer) => darkShare(band) > 0.1 && band.some((v) => v > 200);
const plainGrey = (band: Buffer) => band.every((v) => v > 100 && v < 160);
/** The latest band when it passes `test`. */
const latestIf = (rx: BandReceiver, test: (band: Buffer) => boolean): Buffer | undefined => {
  const band = rx.latest;
  return band && test(band) ? band : undefined;
};
/** The share of pixels that differ clearly between two bands. */
const changed = (a: Buffer, b: Buffer) => a.filter((v, i) => Math.abs(v - b[i]!) > 40).length / a.length;

interface Rig {
  s: SipServer;
  hall: TestHall;
  host: Socket;
  rx: BandReceiver;
  call: Promise<SippRun>;
}

/** The server, a still hall, the host console attached, and a room system's call with its decoder. */
async function rig(env: Record<string, string>): Promise<Rig> {
  const s = await startSipServer(env);
  const hall = await openTestHall(s, GREY);
  const host = await connectSocket(s.o.baseUrl, '/host', { cookie: s.b.cookie, own: true });
  await ask(host, 'host:attach', { sessionId: s.b.sessionId });
  const pin = await s.pinOf('HT-CX');
  const sdp = sdpOffer([
    ...[`m=audio ${AUDIO_PORT} RTP/AVP 0`, 'a=rtpmap:0 PCMU/8000', 'a=recvonly'],
    ...[`m=video ${VIDEO_PORT} RTP/AVP 96`, 'a=rtpmap:96 H264/90000', 'a=fmtp:96 packetization-mode=1', 'a=recvonly'],
  ]);
  const call = runSipp(s.net.name, s.target, heldScenario({ sdp }), {
    service: `HT-CX*${pin}`,
    localIp: s.net.pointIp,
    timeoutSeconds: 180,
  });
  await waitFor(
    () => s.o.orchestrator.realtime.sip!.callOf(s.b.sessionId, 'HT-CX')?.media,
    'the room system’s call to connect',
    20_000,
  );
  const rx = new BandReceiver(s, 96);
  return { s, hall, host, rx, call };
}

async function unrig(r: Rig | undefined): Promise<void> {
  if (!r) return;
  r.rx.stop();
  r.host.close();
  r.hall.sender.kill('SIGKILL');
  // Ending the briefing (live) or cancelling it (lobby) hangs the call up (BYE), which ends SIPp's scenario.
  for (const action of ['end', 'cancel'])
    await request(r.s.o.baseUrl).post(`/api/v1/sessions/${r.s.b.sessionId}/${action}`).set('Cookie', r.s.b.cookie);
  await r.call;
  await r.s.stop();
}

/** Waits for `count` more decoded frames, and returns the last. */
async function framesOn(rx: BandReceiver, count: number, what: string, timeoutMs = 30_000): Promise<Buffer> {
  const from = rx.count;
  await waitFor(() => rx.count >= from + count, what, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message} (the decoder said: ${rx.stderr.trim() || 'nothing'})`);
  });
  return rx.latest!;
}

(cannot ? describe.skip : describe)('SIP: the agenda caption burned into the room systems’ picture', () => {
  let r: Rig | undefined;
  beforeAll(async () => {
    r = await rig({});
  }, 60_000);
  afterAll(() => unrig(r), 60_000);

  test('no item, no band; the first item once live; the next one when the host moves, from the same transcoder', async () => {
    const { rx, host } = r!;
    // In the lobby no agenda item is current: the picture is the hall's, untouched.
    const lobby = await framesOn(rx, 25, 'the room system to decode the hall', FIRST_PICTURE_MS);
    expect(plainGrey(lobby)).toBe(true);
    const [pid] = transcoders();
    expect(pid).toBeDefined();
    expect(childrenWithArg(process.pid, 'drawtext')).toEqual([pid]);

    await ask(host, 'session:goLive');
    const first = await waitFor(() => latestIf(rx, captioned), 'the first item’s caption', 20_000);
    // The band holds still while the item does (the caption is redrawn, not flickering).
    const still = await framesOn(rx, 10, 'more frames of the first item');
    expect(changed(first, still)).toBeLessThan(0.02);

    await ask(host, 'agenda:go', { index: 1 });
    const second = await waitFor(
      () => latestIf(rx, (band) => captioned(band) && changed(first, band) > 0.05),
      'the second item’s caption',
      20_000,
    );
    expect(captioned(second)).toBe(true);
    // The same transcoder drew both: the change was a file rewrite, not a restart.
    expect(transcoders()).toEqual([pid]);
  }, 120_000);
});

(cannot ? describe.skip : describe)('SIP: SIP_CAPTION=off', () => {
  let r: Rig | undefined;
  beforeAll(async () => {
    r = await rig({ SIP_CAPTION: 'off' });
  }, 60_000);
  afterAll(() => unrig(r), 60_000);

  test('the picture stays the hall’s whatever the agenda does', async () => {
    const { rx, host } = r!;
    expect(plainGrey(await framesOn(rx, 25, 'the room system to decode the hall', FIRST_PICTURE_MS))).toBe(true);
    expect(transcoders()).toHaveLength(1);
    expect(childrenWithArg(process.pid, 'drawtext')).toEqual([]);
    await ask(host, 'session:goLive');
    await ask(host, 'agenda:go', { index: 1 });
    await framesOn(rx, 50, 'frames after the agenda moved');
    expect(rx.frames.slice(-50).every(plainGrey)).toBe(true);
  }, 120_000);
});

requireNetnsInCi('the agenda caption in the room systems’ picture', cannot);
