// Where a load run's loss went. The loss figure is read from sequence numbers (packets
// missing from a point's streams after recovery); this puts beside it what can take a
// packet away before it is counted, so that a run says which one did:
// - the kernel: each receive socket's own drop counter and queue (/proc/net/udp, sampled
//   every second in the join and every 5 s in the steady state), and the network
//   namespace's RcvbufErrors over the join as well as over the steady state (a storm's
//   drops happen while the generator is busiest, before the steady window opens);
// - the receiver: packets dropped from its queue held before the SRTP keys (heldDropped),
//   RTP on SSRCs no consumer announced (unknownPackets: RTX not expected) and the SFU's
//   bandwidth probes (probationPackets);
// - the read lag at each gap: how long after the fastest packet of its stream the packet
//   that revealed the gap was read. The SFU keeps video for 2 s to answer a NACK
//   (mediasoup RtpStreamSend), so a gap read later than that cannot be repaired whatever
//   the NACK says.
// Per kind, and per point for the lossiest points.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { VirtualPoint } from './point';
import type { Receiver } from './receiver';
import { lostOf } from './stream-stats';
import { percentile, round } from './stats';

/** One UDP socket's kernel counters: datagrams dropped (full buffer) and bytes queued; its inode. */
export interface UdpSocketState {
  drops: number;
  rxQueueBytes: number;
  inode?: number;
}

/**
 * The IPv4 and IPv6 UDP sockets of this network namespace by local port (/proc/net/udp:
 * `local_address` hex `ADDR:PORT`, `tx_queue:rx_queue` hex bytes, `drops` last). Two
 * sockets on one port (other addresses) are summed.
 */
export function parseProcNetUdp(text: string, into = new Map<number, UdpSocketState>()): Map<number, UdpSocketState> {
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const f = lines[i]!.trim().split(/\s+/);
    if (f.length < 13) continue;
    const port = parseInt(f[1]!.slice(f[1]!.lastIndexOf(':') + 1), 16);
    const rxQueueBytes = parseInt(f[4]!.slice(f[4]!.indexOf(':') + 1), 16);
    const drops = Number(f[f.length - 1]);
    const inode = Number(f[9]);
    if (!Number.isFinite(port) || !Number.isFinite(drops)) continue;
    const s = into.get(port);
    if (s) {
      s.drops += drops;
      s.rxQueueBytes += rxQueueBytes;
    } else into.set(port, { drops, rxQueueBytes, inode });
  }
  return into;
}

export function readUdpSockets(): Map<number, UdpSocketState> {
  const out = new Map<number, UdpSocketState>();
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    try {
      parseProcNetUdp(readFileSync(file, 'utf8'), out);
    } catch {
      // not Linux, or no IPv6
    }
  }
  return out;
}

/** The socket inodes each process holds open (/proc/<pid>/fd → `socket:[inode]`). */
export function socketOwners(processes: readonly { key: string; pid: number }[]): Map<number, string> {
  const out = new Map<number, string>();
  for (const p of processes) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${p.pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${p.pid}/fd/${fd}`));
        if (m) out.set(Number(m[1]), p.key);
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

/** What the kernel did to one receiver's socket: drops (last read) and the deepest queue seen. */
interface SocketRecord {
  drops: number;
  rxQueuePeakBytes: number;
}

/** How often the watch reads the kernel's table: every second in the join, where a storm drops. */
export const SAMPLE_JOIN_MS = 1000;
/** ... and every 5 s in the steady state: each read blocks the generator's loop (a few ms at 420 points). */
export const SAMPLE_STEADY_MS = 5000;

/**
 * Samples the kernel counters of every point's current receive socket, from the join's
 * start to the run's end: every second until `steady()`, every 5 s after. A replaced
 * receiver keeps its last sample (its socket is gone with it). Each sample is read
 * synchronously on the generator's loop; its cost is kept (`sampleMs`).
 */
export class SocketDropWatch {
  readonly #sockets = new WeakMap<Receiver, SocketRecord>();
  /** Total drops over the points' sockets, each time it grew (ms after the join started). */
  readonly timeline: { atMs: number; drops: number }[] = [];
  /** Other sockets that dropped (not a point's current receive socket), by port: the most seen, and the inode. */
  readonly #others = new Map<number, { drops: number; inode: number | undefined }>();
  /** Those sockets' owners, resolved at the end (a server process, the generator). */
  otherSockets: { port: number; owner: string; drops: number }[] = [];
  /** Receivers whose socket was found in the kernel's table at least once. */
  socketsRead = 0;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #lastTotal = 0;
  #t0 = 0;
  /** How long each sample took (ms), read and bookkeeping: the stall it put on the generator's loop. */
  readonly sampleMs: number[] = [];

  constructor(
    private readonly points: readonly VirtualPoint[],
    private readonly read: () => Map<number, UdpSocketState> = readUdpSockets,
  ) {}

  start(t0: number, everyMs = SAMPLE_JOIN_MS): void {
    this.#t0 = t0;
    this.#every(everyMs);
  }

  /** The join is over: sample less often (each sample stalls the generator's loop). */
  steady(everyMs = SAMPLE_STEADY_MS): void {
    if (this.#timer && !this.#stopped) this.#every(everyMs);
  }

  #every(ms: number): void {
    clearInterval(this.#timer);
    this.#timer = setInterval(() => this.sample(), ms);
    this.#timer.unref();
  }

  /**
   * The last sample, and the owners of the other sockets that dropped, among `processes`
   * (the server's, read before they exit) and this generator.
   */
  stop(processes: readonly { key: string; pid: number }[] = []): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    this.sample();
    const owners = socketOwners([...processes, { key: 'generator', pid: process.pid }]);
    this.otherSockets = [...this.#others]
      .map(([port, o]) => ({ port, owner: (o.inode !== undefined && owners.get(o.inode)) || 'other', drops: o.drops }))
      .sort((a, b) => b.drops - a.drops)
      .slice(0, 20);
  }

  sample(): void {
    const t = performance.now();
    this.#sample();
    if (this.sampleMs.length < 10_000) this.sampleMs.push(performance.now() - t);
  }

  #sample(): void {
    const table = this.read();
    let total = 0;
    const ours = new Set<number>();
    for (const p of this.points) {
      const r = p.receiver;
      const port = r?.localPort;
      if (port !== undefined) ours.add(port);
      if (r && port !== undefined) {
        const s = table.get(port);
        if (s) {
          let rec = this.#sockets.get(r);
          if (!rec) {
            rec = { drops: 0, rxQueuePeakBytes: 0 };
            this.socketsRead += 1;
          }
          rec.drops = Math.max(rec.drops, s.drops);
          rec.rxQueuePeakBytes = Math.max(rec.rxQueuePeakBytes, s.rxQueueBytes);
          this.#sockets.set(r, rec);
        }
      }
      total += this.of(p).drops;
    }
    // A point's socket that dropped before its port was known is the point's, not another's.
    for (const port of ours) this.#others.delete(port);
    for (const [port, s] of table) {
      if (s.drops === 0 || ours.has(port)) continue;
      const o = this.#others.get(port);
      if (!o || s.drops > o.drops) this.#others.set(port, { drops: s.drops, inode: s.inode });
    }
    if (total > this.#lastTotal) {
      this.#lastTotal = total;
      if (this.timeline.length < 200) this.timeline.push({ atMs: Date.now() - this.#t0, drops: total });
    }
  }

  /** A point's drops over all its receivers, and its deepest queue. */
  of(p: VirtualPoint): SocketRecord {
    let drops = 0;
    let rxQueuePeakBytes = 0;
    for (const r of [...p.retired, ...(p.receiver ? [p.receiver] : [])]) {
      const rec = this.#sockets.get(r);
      if (!rec) continue;
      drops += rec.drops;
      rxQueuePeakBytes = Math.max(rxQueuePeakBytes, rec.rxQueuePeakBytes);
    }
    return { drops, rxQueuePeakBytes };
  }
}

export interface LossSources {
  /**
   * Packets missing after recovery at the run's end (the result's assembly, a few seconds
   * after the steady state), for audio and video; the total before the steady state, in
   * it (as media.packetsLost: the two summed) and after it (these three add up to
   * audio + video; `inSteady` or `afterSteady` may be negative when RTX repairs a packet
   * after the count it was missing in); and `notDroppedHere`, per point the missing
   * packets less its sockets' kernel drops and its held queue's, summed. That is a lower
   * bound on the loss the generator's sockets do not explain: every dropped datagram is
   * subtracted, including ones that were never counted as lost (the SFU's probation
   * padding, RTCP, STUN, packets RTX repaired later).
   */
  lost: {
    audio: number;
    video: number;
    beforeSteady: number;
    inSteady: number;
    afterSteady: number;
    notDroppedHere: number;
  };
  pointsWithLoss: { audio: number; video: number };
  /**
   * Per point, the loss % left after its own sockets' and held queue's drops are taken off
   * (the headline's lossPct less every datagram the generator dropped): a lower bound, as
   * `lost.notDroppedHere`.
   */
  lossPctNotDroppedHere: { p50: number; p95: number; worst: number; pointsOver1Pct: number };
  kernel: {
    /**
     * RcvbufErrors of the generator's network namespace (/proc/net/snmp: every process in
     * it, the server too when it runs here) from the join's start to the steady state's,
     * and over the steady state.
     */
    rcvbufErrorsJoin: number;
    rcvbufErrorsSteady: number;
    /** Drops counted on the points' own receive sockets, summed, and the points with any. */
    socketDrops: number;
    /** The points' receive sockets (one per receiver, rebuilt ones included) found in the kernel's table. */
    socketsRead: number;
    pointsWithDrops: number;
    /** The deepest receive queue of a point's socket (bytes, kernel accounting), p95 and max over points. */
    rxQueuePeakBytes: { p95: number; max: number };
    /** The points' socket drops, summed, each time the sum grew (ms after the join started). */
    timeline: { atMs: number; drops: number }[];
    /**
     * What reading the kernel's table cost the generator's loop, per sample (ms, blocking):
     * every second in the join, every 5 s in the steady state.
     */
    sampleMs: { p50: number; max: number; samples: number };
    /**
     * Other sockets that dropped, with their owner: a worker's pipe or ingest socket
     * (the same packets then missing at every point it feeds), the generator's other
     * sockets, or `other` (a closed socket, another program).
     */
    otherSockets: { port: number; owner: string; drops: number }[];
  };
  /** RTP lost from the receiver's queue held before the SRTP keys (over 2000 packets). */
  heldDropped: number;
  /** RTP on SSRCs no consumer announced (RTX not expected), and the SFU's bandwidth probes apart. */
  unknownPackets: number;
  probationPackets: number;
  /**
   * Video: how late the packet that revealed a gap was read (ms after its stream's fastest
   * packet: socket queue and generator stalls), worst per point, p50 / p95 / max over the
   * points with a gap; and the points whose worst was over the SFU's 2 s NACK window.
   */
  gapReadLagMs: { p50: number; p95: number; max: number; points: number; pointsOver2s: number };
  /** The lossiest points (up to 20): what each lost, per kind, against each source. */
  worst: {
    pointId: string;
    lostAudio: number;
    lostVideo: number;
    socketDrops: number;
    rxQueuePeakBytes: number;
    heldDropped: number;
    unknownPackets: number;
    nackedPackets: number;
    recovered: number;
    gapReadLagMs: number;
  }[];
}

export function lossSourcesOf(
  points: readonly VirtualPoint[],
  watch: SocketDropWatch | undefined,
  c: { lostAtSteady: [number, number]; rcvbufErrors: { join: number; steady: number } },
): LossSources {
  let audio = 0;
  let video = 0;
  let pointsAudio = 0;
  let pointsVideo = 0;
  let heldDropped = 0;
  let notDroppedHere = 0;
  let unknownPackets = 0;
  let probationPackets = 0;
  let socketDrops = 0;
  let pointsWithDrops = 0;
  const queues: number[] = [];
  const lags: number[] = [];
  const notHerePct: number[] = [];
  const rows: LossSources['worst'] = [];
  for (const p of points) {
    let la = 0;
    let lv = 0;
    let lag = 0;
    for (const s of p.streams()) {
      if (s.kind === 'audio') la += lostOf(s);
      else {
        lv += lostOf(s);
        lag = Math.max(lag, s.gapReadLagMs);
      }
    }
    const receivers = [...p.retired, ...(p.receiver ? [p.receiver] : [])];
    const held = receivers.reduce((a, r) => a + r.heldDropped, 0);
    const unknown = receivers.reduce((a, r) => a + r.unknownPackets, 0);
    probationPackets += receivers.reduce((a, r) => a + r.probationPackets, 0);
    const k = watch?.of(p) ?? { drops: 0, rxQueuePeakBytes: 0 };
    audio += la;
    video += lv;
    // A lower bound: k.drops counts every datagram the socket dropped, not only media
    // that stayed missing (probation padding, RTCP, STUN and later-repaired packets too).
    const notHere = Math.max(0, la + lv - k.drops - held);
    notDroppedHere += notHere;
    const rec = p.streams().reduce((a, s) => a + s.received, 0);
    notHerePct.push(rec + la + lv > 0 ? (100 * notHere) / (rec + la + lv) : 0);
    if (la > 0) pointsAudio += 1;
    if (lv > 0) pointsVideo += 1;
    heldDropped += held;
    unknownPackets += unknown;
    socketDrops += k.drops;
    if (k.drops > 0) pointsWithDrops += 1;
    queues.push(k.rxQueuePeakBytes);
    if (lag > 0) lags.push(lag);
    if (la + lv + k.drops + held > 0) {
      const fb = p.feedback();
      rows.push({
        pointId: p.o.pointId,
        lostAudio: la,
        lostVideo: lv,
        socketDrops: k.drops,
        rxQueuePeakBytes: k.rxQueuePeakBytes,
        heldDropped: held,
        unknownPackets: unknown,
        nackedPackets: fb?.nackedPackets ?? 0,
        recovered: fb?.recovered ?? 0,
        gapReadLagMs: round(lag, 0),
      });
    }
  }
  rows.sort((a, b) => b.lostAudio + b.lostVideo - (a.lostAudio + a.lostVideo) || b.socketDrops - a.socketDrops);
  return {
    lost: {
      audio,
      video,
      beforeSteady: c.lostAtSteady[0],
      inSteady: c.lostAtSteady[1] - c.lostAtSteady[0],
      afterSteady: audio + video - c.lostAtSteady[1],
      notDroppedHere,
    },
    pointsWithLoss: { audio: pointsAudio, video: pointsVideo },
    lossPctNotDroppedHere: {
      p50: round(percentile(notHerePct, 50), 3),
      p95: round(percentile(notHerePct, 95), 3),
      worst: round(Math.max(0, ...notHerePct), 3),
      pointsOver1Pct: notHerePct.filter((x) => x >= 1).length,
    },
    kernel: {
      rcvbufErrorsJoin: c.rcvbufErrors.join,
      rcvbufErrorsSteady: c.rcvbufErrors.steady,
      socketDrops,
      socketsRead: watch?.socketsRead ?? 0,
      pointsWithDrops,
      rxQueuePeakBytes: { p95: round(percentile(queues, 95), 0), max: Math.max(0, ...queues) },
      timeline: watch?.timeline ?? [],
      sampleMs: {
        p50: round(percentile(watch?.sampleMs ?? [], 50), 2) || 0,
        max: round(Math.max(0, ...(watch?.sampleMs ?? [])), 2),
        samples: watch?.sampleMs.length ?? 0,
      },
      otherSockets: watch?.otherSockets ?? [],
    },
    heldDropped,
    unknownPackets,
    probationPackets,
    gapReadLagMs: {
      p50: round(percentile(lags, 50), 0),
      p95: round(percentile(lags, 95), 0),
      max: round(Math.max(0, ...lags), 0),
      points: lags.length,
      pointsOver2s: lags.filter((x) => x > 2000).length,
    },
    worst: rows.slice(0, 20),
  };
}
