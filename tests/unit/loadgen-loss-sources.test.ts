// Where a load run's loss went (scripts/loadgen/loss-sources.ts): the kernel's counters of
// the points' receive sockets read from /proc/net/udp, a point's drops kept over its
// replaced receivers, the loss the generator's own drops do not explain, and the read lag
// at a gap (scripts/loadgen/stream-stats.ts noteReadLag).
import {
  SocketDropWatch,
  lossSourcesOf,
  parseProcNetUdp,
  type UdpSocketState,
} from '../../scripts/loadgen/loss-sources';
import { newStream, noteReadLag, type StreamStats } from '../../scripts/loadgen/stream-stats';
import type { VirtualPoint } from '../../scripts/loadgen/point';
import type { Receiver } from '../../scripts/loadgen/receiver';

const PROC_NET_UDP = [
  '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops',
  '  101: 0100007F:A411 0100007F:9C40 01 00000000:003DFE00 00:00000000 00000000     0        0 81235 2 0000000000000000 2609',
  '  102: 0100007F:A412 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 81236 2 0000000000000000 0',
  '',
].join('\n');

describe('parseProcNetUdp', () => {
  test('reads each socket by local port: its drops and queued bytes', () => {
    const t = parseProcNetUdp(PROC_NET_UDP);
    expect(t.get(0xa411)).toEqual({ drops: 2609, rxQueueBytes: 0x3dfe00, inode: 81235 });
    expect(t.get(0xa412)).toEqual({ drops: 0, rxQueueBytes: 0x340, inode: 81236 });
    expect(t.size).toBe(2);
  });
});

function stream(kind: 'audio' | 'video', firstSeq: number, maxSeq: number, received: number): StreamStats {
  const s = newStream(kind, kind === 'audio' ? 1 : 2, kind === 'audio' ? 48000 : 90000);
  Object.assign(s, { firstSeq, maxSeq, received });
  return s;
}

interface FakePoint {
  o: { pointId: string };
  receiver: Receiver | undefined;
  retired: Receiver[];
  streams: () => StreamStats[];
  feedback: () => undefined;
}

function receiver(localPort: number, streams: StreamStats[], heldDropped = 0): Receiver {
  return {
    localPort,
    heldDropped,
    unknownPackets: 0,
    probationPackets: 0,
    streams: new Map(streams.map((s) => [s.ssrc, s])),
  } as unknown as Receiver;
}

/** A point as lossSourcesOf and SocketDropWatch read it: its current receiver, the replaced ones, the streams of all. */
function point(id: string, current: Receiver): FakePoint {
  const p: FakePoint = {
    o: { pointId: id },
    receiver: current,
    retired: [],
    streams: () => [...p.retired, current].flatMap((r) => [...r.streams.values()]),
    feedback: () => undefined,
  };
  return p;
}

describe('SocketDropWatch and lossSourcesOf', () => {
  test("a point's loss against its sockets' drops, kept after its receiver was replaced", () => {
    // A: 2609 dropped on its first socket, then replaced; 40 on the second.
    const a1 = receiver(1000, [stream('audio', 0, 999, 700)]);
    const a2 = receiver(2000, [stream('video', 0, 1999, 1950)]);
    const a = point('A', a1);
    // B: 30 missing, none dropped by its socket nor held: not the generator's.
    const b = point('B', receiver(3000, [stream('video', 100, 1099, 970)]));
    const points = [a, b] as unknown as VirtualPoint[];
    // 4000: no point's, say a worker's pipe socket.
    let table = new Map<number, UdpSocketState>([
      [1000, { drops: 2609, rxQueueBytes: 4_062_720 }],
      [3000, { drops: 0, rxQueueBytes: 832 }],
      [4000, { drops: 5, rxQueueBytes: 0 }],
    ]);
    const watch = new SocketDropWatch(points, () => table);
    watch.sample();
    // The watchdog rebuilt A: its first socket is gone from the table, its drops stay counted.
    a.retired.push(a1);
    a.receiver = a2;
    a.streams = () => [a1, a2].flatMap((r) => [...r.streams.values()]);
    table = new Map([
      [2000, { drops: 40, rxQueueBytes: 3_000_000 }],
      [3000, { drops: 0, rxQueueBytes: 0 }],
      [4000, { drops: 21, rxQueueBytes: 0 }],
    ]);
    watch.stop();
    expect(watch.of(points[0]!)).toEqual({ drops: 2609 + 40, rxQueuePeakBytes: 4_062_720 });
    expect(watch.of(points[1]!)).toEqual({ drops: 0, rxQueuePeakBytes: 832 });
    expect(watch.timeline.map((x) => x.drops)).toEqual([2609, 2649]);
    expect(watch.otherSockets).toEqual([{ port: 4000, owner: 'other', drops: 21 }]);

    const r = lossSourcesOf(points, watch, { lostAtSteady: [320, 370], rcvbufErrors: { join: 2649, steady: 0 } });
    expect(r.lost).toEqual({
      audio: 300,
      video: 50 + 30,
      beforeSteady: 320,
      inSteady: 50,
      afterSteady: 10,
      notDroppedHere: 30,
    });
    expect(r.pointsWithLoss).toEqual({ audio: 1, video: 2 });
    // B: 30 of 1000 missing, all of them not the generator's; A: none.
    expect(r.lossPctNotDroppedHere.worst).toBe(3);
    expect(r.lossPctNotDroppedHere.pointsOver1Pct).toBe(1);
    expect(r.kernel.socketDrops).toBe(2649);
    expect(r.kernel.pointsWithDrops).toBe(1);
    expect(r.kernel.socketsRead).toBe(3);
    expect(r.worst.map((w) => [w.pointId, w.lostAudio + w.lostVideo, w.socketDrops])).toEqual([
      ['A', 350, 2649],
      ['B', 30, 0],
    ]);
  });
});

describe('SocketDropWatch schedule', () => {
  afterEach(() => jest.useRealTimers());

  test('reads every second in the join, every 5 s once steady, and keeps what each read cost', () => {
    jest.useFakeTimers();
    let reads = 0;
    const watch = new SocketDropWatch([], () => {
      reads += 1;
      return new Map();
    });
    watch.start(Date.now());
    jest.advanceTimersByTime(3000);
    expect(reads).toBe(3);
    watch.steady();
    jest.advanceTimersByTime(4999);
    expect(reads).toBe(3);
    jest.advanceTimersByTime(1);
    expect(reads).toBe(4);
    jest.advanceTimersByTime(10_000);
    expect(reads).toBe(6);
    watch.stop();
    expect(reads).toBe(7);
    jest.advanceTimersByTime(10_000);
    expect(reads).toBe(7);
    expect(watch.sampleMs).toHaveLength(7);
    const r = lossSourcesOf([], watch, { lostAtSteady: [0, 0], rcvbufErrors: { join: 0, steady: 0 } });
    expect(r.kernel.sampleMs.samples).toBe(7);
    expect(r.kernel.sampleMs.max).toBeGreaterThanOrEqual(r.kernel.sampleMs.p50);
  });
});

describe('noteReadLag', () => {
  test('the lag behind the fastest packet, kept at a gap only', () => {
    const s = newStream('video', 2, 90000);
    noteReadLag(s, 9000, false); // the reference: 100 ms of transit in timestamp units
    noteReadLag(s, 9000 + 90 * 500, false); // read 500 ms late, no gap
    expect(s.gapReadLagMs).toBe(0);
    noteReadLag(s, 9000 + 90 * 15_000, true); // the packet after a gap, read 15 s late
    expect(s.gapReadLagMs).toBeCloseTo(15_000);
    noteReadLag(s, 9000 + 90 * 100, true);
    expect(s.gapReadLagMs).toBeCloseTo(15_000);
  });

  test('a timestamp wrap starts the reference again', () => {
    const s = newStream('audio', 1, 48000);
    noteReadLag(s, 1000, false);
    noteReadLag(s, 1000 + 2 ** 32, true);
    expect(s.gapReadLagMs).toBe(0);
  });
});
