// What room systems over SIP cost: (a) the one ffmpeg per session that transcodes the hall
// (here VP8 1280x720 30 fps from a plain RTP ingest) to H.264, G.711, G.722 and Opus; (b)
// forwarding to N calls: the mediasoup workers' and the server's CPU with N calls up,
// against one call up, per extra call; (c) signalling: the server's and the workers' CPU
// to set up (INVITE, 200, ACK) and hang up (BYE, 200) a call. An in-process Orchestrator
// with the SIP gateway on loopback; the room systems are a child process of this script
// (its CPU is not counted) that sends real INVITEs with the PIN in the address
// (`sip:<code>*<PIN>@host`), each call from its own loopback address, offering plain RTP
// to two UDP sinks per call (audio, video, rtcp-mux) that count what arrives. The audio
// codec rotates over PCMU, PCMA, G.722 and Opus. (d) the floor: the first call is given
// the floor; its room system answers the re-INVITE `sendrecv` and sends H.264 (1280x720
// 30 fps, or --floor-size and --floor-fps) and G.711 (an ffmpeg of the child's, relayed
// from its call's media ports, with its RTCP), and the two ffmpeg the server starts per
// floor holder (Opus, VP8 into the room) are measured, together and each: CPU, RSS, and
// the bit rates that reach the room. See docs/benchmarks/sip-and-ingest.md.
//
//   node --import tsx scripts/bench-sip.ts --calls 10 --seconds 20 --out result.json
//
// The hall's own sender (hallSenderPct) is measured too: on a loaded machine it may run
// slower than real time, and then the calls receive less than the nominal rates.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { io } from 'socket.io-client';
import { benchConfig } from './lib/bench-config';
import { Orchestrator } from '../server/assembly/orchestrator';
import { EmbeddedRedis } from '../server/redis/embedded-redis';
import { cpuSeconds, feedPlainHall, hostAsker } from './lib/bench-hall';
import { FloorRoomSystem } from './lib/bench-sip-floor';
import { prepareBriefing } from './lib/briefing-api';
import { freeUdpPort } from './loadgen/http';
import { processesWhere, readProc } from './loadgen/procstat';

const { values: v } = parseArgs({
  options: {
    calls: { type: 'string', default: '10' },
    seconds: { type: 'string', default: '20' },
    size: { type: 'string', default: '1280x720' },
    /** What the room system holding the floor sends: H.264 at this size and frame rate. */
    'floor-size': { type: 'string', default: '1280x720' },
    'floor-fps': { type: 'string', default: '30' },
    out: { type: 'string' },
    'room-systems': { type: 'boolean', default: false },
  },
});
const CALLS = Number(v.calls);
const SECONDS = Number(v.seconds);
const ADMIN = { username: 'admin', password: 'bench-sip-password' };
const CODECS = [
  ['0', 'PCMU/8000'],
  ['8', 'PCMA/8000'],
  ['9', 'G722/8000'],
  ['111', 'opus/48000/2'],
] as const;

// ---------------------------------------------------------------- room systems (child)

interface Dial {
  code: string;
  pin: string;
  index: number;
}
type ToChild =
  | { cmd: 'dial'; target: { ip: string; port: number }; dials: Dial[] }
  | { cmd: 'stats' }
  | { cmd: 'floor' }
  | { cmd: 'bye' };

interface Leg {
  sock: dgram.Socket;
  sinks: dgram.Socket[];
  bytes: number[];
  callId: string;
  fromTag: string;
  toTag: string;
  local: string;
  uri: string;
  /** Our offer: the answers to the gateway's re-INVITEs repeat it with another direction. */
  sdp: string;
}

function roomSystems(): void {
  const legs: Leg[] = [];
  let target = { ip: '127.0.0.1', port: 5060 };
  const floor = new FloorRoomSystem({ size: v['floor-size']!, fps: v['floor-fps']! });
  process.on('exit', () => floor.stop());
  const bind = (s: dgram.Socket, ip: string) => new Promise<void>((r) => s.bind(0, ip, () => r()));
  /** Sends `msg` (again every 500 ms) until a final response; resolves with it. */
  const transact = (leg: Leg, msg: string, method: string) =>
    new Promise<string>((resolve, reject) => {
      const send = () => leg.sock.send(msg, target.port, target.ip);
      const again = setInterval(send, 500);
      const give = setTimeout(() => done(new Error(`${method}: no final response`)), 20_000);
      const onMsg = (b: Buffer) => {
        const t = b.toString();
        const m = /^SIP\/2\.0 (\d{3})/.exec(t);
        if (!m || Number(m[1]) < 200 || !new RegExp(`^CSeq: *\\d+ ${method}`, 'mi').test(t)) return;
        done(undefined, t);
      };
      const done = (err?: Error, t?: string) => {
        clearInterval(again);
        clearTimeout(give);
        leg.sock.off('message', onMsg);
        if (err) reject(err);
        else resolve(t!);
      };
      leg.sock.on('message', onMsg);
      send();
    });
  const request = (leg: Leg, method: string, cseq: number, extra: string[], body = '') =>
    [
      `${method} ${leg.uri} SIP/2.0`,
      `Via: SIP/2.0/UDP ${leg.local};branch=z9hG4bK${randomBytes(6).toString('hex')};rport`,
      `From: <sip:room@${leg.local}>;tag=${leg.fromTag}`,
      `To: <${leg.uri}>${leg.toTag ? `;tag=${leg.toTag}` : ''}`,
      `Call-ID: ${leg.callId}`,
      `CSeq: ${cseq} ${method}`,
      'Max-Forwards: 70',
      ...extra,
      `Content-Length: ${Buffer.byteLength(body)}`,
      '',
      body,
    ].join('\r\n');

  async function dial(d: Dial): Promise<void> {
    const ip = `127.0.${1 + Math.floor(d.index / 250)}.${1 + (d.index % 250)}`;
    const sock = dgram.createSocket('udp4');
    const sinks = [dgram.createSocket('udp4'), dgram.createSocket('udp4')];
    await Promise.all([sock, ...sinks].map((s) => bind(s, ip)));
    const leg: Leg = {
      sock,
      sinks,
      bytes: [0, 0],
      callId: `${randomBytes(8).toString('hex')}@${ip}`,
      fromTag: randomBytes(4).toString('hex'),
      toTag: '',
      local: `${ip}:${sock.address().port}`,
      uri: `sip:${d.code}*${d.pin}@${target.ip}:${target.port}`,
      sdp: '',
    };
    sinks.forEach((s, i) => s.on('message', (b) => (leg.bytes[i]! += b.length)));
    const [pt, rtpmap] = CODECS[d.index % CODECS.length]!;
    const sdp = [
      'v=0',
      `o=room ${d.index + 1} 1 IN IP4 ${ip}`,
      's=-',
      `c=IN IP4 ${ip}`,
      't=0 0',
      `m=audio ${sinks[0]!.address().port} RTP/AVP ${pt}`,
      `a=rtpmap:${pt} ${rtpmap}`,
      'a=rtcp-mux',
      'a=sendrecv',
      `m=video ${sinks[1]!.address().port} RTP/AVP 96`,
      'a=rtpmap:96 H264/90000',
      'a=fmtp:96 profile-level-id=42e01f;packetization-mode=1',
      'a=rtcp-mux',
      'a=sendrecv',
      '',
    ].join('\r\n');
    leg.sdp = sdp;
    const invite = request(
      leg,
      'INVITE',
      1,
      [`Contact: <sip:room@${leg.local}>`, 'Content-Type: application/sdp'],
      sdp,
    );
    const ok = await transact(leg, invite, 'INVITE');
    if (!ok.startsWith('SIP/2.0 200')) throw new Error(`INVITE ${d.code}: ${ok.split('\r\n')[0]}`);
    leg.toTag = /^To:.*;tag=([^;\s]+)/im.exec(ok)?.[1] ?? '';
    sock.send(request(leg, 'ACK', 1, []), target.port, target.ip);
    sock.on('message', (b) => floor.reinvited(leg, b.toString(), target));
    legs.push(leg);
  }

  process.on('message', (m: ToChild) => {
    const reply = (x: unknown) => process.send!(x);
    if (m.cmd === 'dial') {
      target = m.target;
      const t0 = process.hrtime.bigint();
      void (async () => {
        for (const d of m.dials) await dial(d);
      })().then(
        () => reply({ ok: true, ms: Number(process.hrtime.bigint() - t0) / 1e6 }),
        (err: Error) => reply({ ok: false, error: err.message }),
      );
    } else if (m.cmd === 'stats') {
      reply({ ok: true, bytes: legs.map((l) => [...l.bytes]) });
    } else if (m.cmd === 'floor') {
      reply({ ok: true, ms: 0, asked: floor.asked, sending: floor.sending });
    } else {
      floor.stop();
      const t0 = process.hrtime.bigint();
      void (async () => {
        for (const l of legs.splice(0)) {
          const r = await transact(l, request(l, 'BYE', 2, []), 'BYE');
          if (!r.startsWith('SIP/2.0 200')) throw new Error(`BYE: ${r.split('\r\n')[0]}`);
          for (const s of [l.sock, ...l.sinks]) s.close();
        }
      })().then(
        () => reply({ ok: true, ms: Number(process.hrtime.bigint() - t0) / 1e6 }),
        (err: Error) => reply({ ok: false, error: err.message }),
      );
    }
  });
}

// ---------------------------------------------------------------- measuring side

/** This process's children with an argument that matches. */
const children = (match: RegExp): number[] =>
  processesWhere((p) => p.ppid === process.pid && p.args.some((x) => match.test(x)));

const serverCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
const pct = (cpuSec: number, secs: number) => Math.round((cpuSec / secs) * 1000) / 10;
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU (% of one core) of the server, the workers and the transcoders (the hall's, the floor's) over `secs`. */
async function window(secs: number) {
  const workers = children(/mediasoup-worker/);
  const transcoders = children(/sip-feed-/);
  // The floor's two transcoders: its sound's and its picture's.
  const floorAudio = children(/\/floor-audio\.sdp$/);
  const floorVideo = children(/\/floor-video\.sdp$/);
  const floor = [...floorAudio, ...floorVideo];
  const f0 = new Map(floor.map((p) => [p, cpuSeconds(p)]));
  const floorPct = (pids: number[]) =>
    pct(
      pids.reduce((a, p) => a + cpuSeconds(p) - f0.get(p)!, 0),
      dt,
    );
  const rssMiB = (pids: number[]) => round(pids.reduce((a, p) => a + (readProc(p)?.rssBytes ?? 0), 0) / 2 ** 20, 1);
  const hall = children(/testsrc2/);
  const h0 = hall.map(cpuSeconds);
  const w0 = workers.map(cpuSeconds);
  const x0 = transcoders.map(cpuSeconds);
  const s0 = serverCpu();
  const load = os.loadavg()[0]!;
  const t0 = Date.now();
  await sleep(secs * 1000);
  const dt = (Date.now() - t0) / 1000;
  return {
    seconds: round(dt, 1),
    serverPct: pct(serverCpu() - s0, dt),
    workersPct: pct(
      workers.reduce((a, p, i) => a + cpuSeconds(p) - w0[i]!, 0),
      dt,
    ),
    transcoders: transcoders.length,
    transcoderPct: pct(
      transcoders.reduce((a, p, i) => a + cpuSeconds(p) - x0[i]!, 0),
      dt,
    ),
    floorTranscoders: floor.length,
    floorTranscoderPct: floorPct(floor),
    floorAudioPct: floorPct(floorAudio),
    floorVideoPct: floorPct(floorVideo),
    floorTranscoderRssMiB: rssMiB(floor),
    floorAudioRssMiB: rssMiB(floorAudio),
    floorVideoRssMiB: rssMiB(floorVideo),
    hallSenderPct: pct(
      hall.reduce((a, p, i) => a + cpuSeconds(p) - h0[i]!, 0),
      dt,
    ),
    load1m: { before: load, after: os.loadavg()[0]! },
  };
}

/** CPU seconds of the server and the workers spent while `run` goes. */
async function costOf(run: () => Promise<{ ms: number }>) {
  const workers = children(/mediasoup-worker/);
  const w0 = workers.reduce((a, p) => a + cpuSeconds(p), 0);
  const s0 = serverCpu();
  const r = await run();
  return {
    ms: Math.round(r.ms),
    serverCpuSec: serverCpu() - s0,
    workersCpuSec: workers.reduce((a, p) => a + cpuSeconds(p), 0) - w0,
  };
}

async function main(): Promise<void> {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sip-'));
  const sipPort = await freeUdpPort();
  const redis = await EmbeddedRedis.start({ dir: path.join(tmp, 'redis') });
  const config = benchConfig(tmp, ADMIN, {
    RECORDING_DIR: path.join(tmp, 'recordings'),
    SIP_PORT: String(sipPort),
    SIP_LISTEN_IP: '127.0.0.1',
    SIP_PLAIN_RTP: '*',
    SIP_INVITES_PER_MINUTE: '1000',
    SIP_INVITE_BURST: '100',
  });
  const o = await Orchestrator.create(config, pino({ level: 'warn' }), redis.url);
  const port = (await o.listen()).port;
  const sip = o.realtime.sip!;
  const base = `http://127.0.0.1:${port}`;
  const procs: ChildProcess[] = [];
  const phones = fork(process.argv[1]!, ['--room-systems'], { execArgv: process.execArgv, stdio: 'inherit' });
  procs.push(phones);
  const ask = (m: ToChild) =>
    new Promise<Record<string, unknown> & { ms: number }>((resolve, reject) => {
      phones.once('message', (r: { ok: boolean; error?: string; ms: number }) =>
        r.ok ? resolve(r as Record<string, unknown> & { ms: number }) : reject(new Error(r.error)),
      );
      phones.send(m);
    });
  try {
    const points = (await o.control.points.all()).slice(0, CALLS).map((p) => p.id);
    if (points.length < CALLS) throw new Error(`only ${points.length} points for ${CALLS} calls`);
    const b = await prepareBriefing(base, points, { user: ADMIN });
    const host = io(`${base}/host`, { transports: ['websocket'], forceNew: true, extraHeaders: { cookie: b.cookie } });
    const hostAsk = hostAsker(host);
    await hostAsk('host:attach', { sessionId: b.sessionId });
    procs.push(await feedPlainHall(hostAsk, { size: v.size!, bitrate: '1200k' }));
    await sleep(2000);
    await hostAsk('session:goLive', {});
    const pins: Dial[] = [];
    for (const [index, code] of points.entries()) {
      const res = await fetch(`${base}/api/v1/sessions/${b.sessionId}/links/${code}/sip`, {
        headers: { cookie: b.cookie },
      });
      if (res.status !== 200) throw new Error(`sip link ${code}: ${res.status}`);
      pins.push({ code, pin: ((await res.json()) as { pin: string }).pin, index });
    }
    const target = { ip: '127.0.0.1', port: sipPort };
    await sleep(3000);
    process.stderr.write('[bench-sip] hall live, no call\n');
    const noCall = await window(SECONDS);
    await ask({ cmd: 'dial', target, dials: pins.slice(0, 1) });
    await sleep(8000); // the transcoder starts and settles
    process.stderr.write('[bench-sip] one call\n');
    const oneCall = await window(SECONDS);
    const setup = await costOf(() => ask({ cmd: 'dial', target, dials: pins.slice(1) }));
    if (sip.callCount !== CALLS) throw new Error(`${sip.callCount} calls up, not ${CALLS}`);
    await sleep(3000);
    const bytes0 = ((await ask({ cmd: 'stats' })).bytes as number[][]).map((x) => [...x]);
    process.stderr.write(`[bench-sip] ${CALLS} calls\n`);
    const nCalls = await window(SECONDS);
    const bytes1 = (await ask({ cmd: 'stats' })).bytes as number[][];
    const kbps = bytes1.map((x, i) => x.map((y, j) => ((y - bytes0[i]![j]!) * 8) / 1000 / nCalls.seconds));
    // The floor to the first call: its room system sends 720p30 H.264 and G.711.
    await hostAsk('floor:grant', { pointId: points[0] });
    const floorState = await ask({ cmd: 'floor' });
    if (floorState.asked !== 1 || !floorState.sending) throw new Error('the room system was not asked to send');
    for (let i = 0; i < 100 && children(/\/floor-(audio|video)\.sdp$/).length !== 2; i++) await sleep(100);
    await sleep(8000); // the floor's transcoders decode from a key frame and settle
    process.stderr.write(`[bench-sip] ${CALLS} calls, the first holding the floor\n`);
    const floorWindow = await window(SECONDS);
    // What the floor's transcoders send into the room, as the origin receives it (kbit/s).
    const room = await (await o.realtime.broadcasts.get(b.sessionId)).requireRoom();
    const intoRoom: Record<string, number> = {};
    for (const p of room.listProducers().filter((x) => x.source === 'floor-camera' || x.source === 'floor-mic')) {
      const s = await room.getProducerStats(p.producerId);
      intoRoom[p.kind] = round(s.streams.reduce((a, x) => a + x.bitrate, 0) / 1000, 0);
    }
    // A transcoder that falls behind real time starves its audio first: recorded, not hidden.
    if (!(intoRoom.video! > 0) && !(intoRoom.audio! > 0)) throw new Error('the floor did not reach the room');
    if (!(intoRoom.audio! > 0)) process.stderr.write("[bench-sip] the floor's sound did not reach the room\n");
    await hostAsk('floor:revoke', {});
    const teardown = await costOf(() => ask({ cmd: 'bye' }));
    const extra = CALLS - 1;
    const idleRate = oneCall.serverPct / 100;
    const idleWorkers = oneCall.workersPct / 100;
    const result = {
      at: new Date().toISOString(),
      calls: CALLS,
      method:
        'in-process Orchestrator; real INVITE/200/ACK/BYE over loopback UDP from a child process (PIN in the URI), ' +
        'plain RTP to two UDP sinks per call; CPU from /proc/<pid>/stat and process.cpuUsage()',
      hall: { video: `VP8 ${v.size} 1200 kbps 30 fps (ffmpeg over plain RTP)`, audio: 'Opus 64 kbps' },
      transcoder: { perSessionPct: oneCall.transcoderPct, withNCallsPct: nCalls.transcoderPct },
      floorTranscoder: {
        input: `H.264 ${v['floor-size']} ${v['floor-fps']} fps 1500 kbps (x264 ultrafast baseline) + G.711 µ-law from the first call`,
        output: 'VP8 up to 720p 25 fps 800 kbps (2 threads) + Opus 64 kbps into the room, one ffmpeg each',
        running: floorWindow.floorTranscoders,
        pct: floorWindow.floorTranscoderPct,
        rssMiB: floorWindow.floorTranscoderRssMiB,
        audio: { pct: floorWindow.floorAudioPct, rssMiB: floorWindow.floorAudioRssMiB },
        video: { pct: floorWindow.floorVideoPct, rssMiB: floorWindow.floorVideoRssMiB },
        intoRoomKbps: intoRoom,
      },
      windows: { noCall, oneCall, nCalls, floor: floorWindow },
      forwarding: {
        workersPctPerExtraCall: round((nCalls.workersPct - oneCall.workersPct) / extra),
        serverPctPerExtraCall: round((nCalls.serverPct - oneCall.serverPct) / extra),
        receivedKbpsPerCall: {
          audioMedianByCodec: Object.fromEntries(
            CODECS.map(([, name], c) => [
              name,
              round(median(kbps.filter((_, i) => i % CODECS.length === c).map((k) => k[0]!)), 0),
            ]),
          ),
          videoMedian: round(median(kbps.map((k) => k[1]!)), 0),
          videoMin: round(Math.min(...kbps.map((k) => k[1]!)), 0),
        },
      },
      signalling: {
        setup: {
          calls: extra,
          ms: setup.ms,
          serverCpuMsPerCall: round(((setup.serverCpuSec - (idleRate * setup.ms) / 1000) * 1000) / extra, 1),
          workersCpuMsPerCall: round(((setup.workersCpuSec - (idleWorkers * setup.ms) / 1000) * 1000) / extra, 1),
        },
        teardown: {
          calls: CALLS,
          ms: teardown.ms,
          serverCpuMsPerCall: round((teardown.serverCpuSec * 1000) / CALLS, 1),
          workersCpuMsPerCall: round((teardown.workersCpuSec * 1000) / CALLS, 1),
        },
      },
      machine: { cores: os.cpus().length, model: os.cpus()[0]?.model, load1mAtEnd: os.loadavg()[0] },
    };
    await hostAsk('session:end', {});
    host.close();
    if (v.out) fs.writeFileSync(v.out, `${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await o.stop();
    await redis.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

if (v['room-systems']) roomSystems();
else
  main().catch((err: unknown) => {
    process.stderr.write(`${String((err as Error)?.stack ?? err)}\n`);
    process.exit(1);
  });
