// ICE over TCP through a worker's WebRtcServer, as a point behind a network that blocks UDP
// reaches us: hundreds of transports, each given a real TCP connection (framed STUN binding
// requests as a browser sends them, RFC 4571 and 8445, and a frame as large as media's)
// and then closed. 3.12.16's worker kept every such connection, with its 64 kB receive
// buffer, until it exited; the build's fix (scripts/worker-fixes.mjs, fixTcpConnectionLeak)
// frees each one as its transport closes. The worker's resident memory tells the two apart
// (26.4 MB grown for 400 transports before the fix, none after).
import fs from 'node:fs';
import net from 'node:net';
import type { types as ms } from 'mediasoup';
import { bindingRequest, framed } from '../../scripts/loadgen/ice-tcp';
import type { WorkerPool } from '../../sfu/worker-pool';
import { createPool } from '../helpers/sfu';

jest.setTimeout(120_000);

/** One point over TCP: connects, is answered (its tuple is in use), then its transport closes. */
async function tcpPointComesAndGoes(router: ms.Router, server: ms.WebRtcServer, port: number): Promise<void> {
  const transport = await router.createWebRtcTransport({ webRtcServer: server, enableUdp: false, enableTcp: true });
  const sock = net.connect(port, '127.0.0.1');
  const ended = new Promise<void>((resolve) => sock.once('close', () => resolve()));
  sock.on('error', () => undefined);
  // Each STUN success response (0x0101 after the 2-byte frame length) as it arrives.
  let answers = 0;
  let answered: () => void = () => undefined;
  sock.on('data', (b: Buffer) => {
    if (b.length >= 4 && b.readUInt16BE(2) === 0x0101) answers += 1;
    answered();
  });
  const answer = (n: number) =>
    new Promise<void>((resolve) => {
      answered = () => answers >= n && resolve();
      answered();
    });
  await new Promise<void>((resolve) => sock.once('connect', () => resolve()));
  sock.write(framed(bindingRequest(transport.iceParameters, 'pointufrag')));
  await answer(1);
  // A large frame (media would be one), so the connection's whole receive buffer is used;
  // the answer to the request after it says the worker has read it.
  sock.write(
    Buffer.concat([framed(Buffer.alloc(60_000)), framed(bindingRequest(transport.iceParameters, 'pointufrag'))]),
  );
  await answer(2);
  transport.close();
  // The worker shuts the connection down when the transport closes.
  await ended;
}

function residentBytes(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb) * 1024;
}

describe('TCP points through the WebRtcServer', () => {
  let pool: WorkerPool;
  afterEach(() => pool?.close());

  test("a closed transport's TCP connection is freed, not kept until the worker exits", async () => {
    pool = await createPool(1);
    const slot = pool.slots[0]!;
    const router = await slot.worker!.createRouter({
      mediaCodecs: [{ kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 }],
    });
    const pid = slot.worker!.pid;
    // Warm up: the worker's allocator and caches settle first.
    for (let i = 0; i < 50; i++) await tcpPointComesAndGoes(router, slot.webRtcServer!, slot.tcpPort!);
    const before = residentBytes(pid);
    const n = 400;
    for (let i = 0; i < n; i++) await tcpPointComesAndGoes(router, slot.webRtcServer!, slot.tcpPort!);
    const grown = residentBytes(pid) - before;
    console.log(`[worker] ${n} TCP points came and went: worker resident memory grew ${(grown / 1e6).toFixed(1)} MB`);
    // Kept connections would hold n receive buffers of 64 kB: 26 MB here.
    expect(grown).toBeLessThan((n * 65536) / 4);
  });
});
