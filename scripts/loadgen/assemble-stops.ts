// The points' silences of the hall's video matched to the SFU's stops in a load run's
// result (./video-stops.ts does the matching; this reads the points' streams for it).
import type { VirtualPoint } from './point';
import type { SfuVideoLog } from './server-log';
import { SILENCE_RECORD_MS, type StreamSilence } from './stream-stats';
import { HALL_VIDEO, matchVideoStops, pointSilences, sfuStopsOf, type VideoStopsResult } from './video-stops';

/**
 * Every virtual point's silences against the stops in the servers' logs; the drilled
 * points (stalled on purpose) are left out of the silences, and their stops counted apart.
 */
export function videoStopsOf(f: {
  points: VirtualPoint[];
  drilled: VirtualPoint[];
  sfuVideo: SfuVideoLog;
  /** When the log was read (epoch ms): the end of a stop or silence still going on then. */
  sfuVideoReadAt: number;
  joinT0: number;
  causeOf: (g: StreamSilence) => 'wire' | 'generator' | 'late';
}): VideoStopsResult {
  if ('reason' in f.sfuVideo) return { available: false, reason: f.sfuVideo.reason };
  const drilled = new Set(f.drilled.map((p) => p.o.pointId));
  const points = f.points.filter((p) => !drilled.has(p.o.pointId));
  const endAt = f.sfuVideoReadAt;
  // lastArrival is the receiver's performance.now(): to wall time as of now, as the
  // silences (Date.now()) and the server's log are, whatever the clocks drifted apart since
  // the process started.
  const nowWall = Date.now();
  const nowMono = performance.now();
  const epoch = (t: number) => nowWall - (nowMono - t);
  let notKept = 0;
  const silences = points.flatMap((p) =>
    pointSilences(
      p.o.pointId,
      [...p.retired, ...(p.receiver ? [p.receiver] : [])].map((r) =>
        [...r.streams.values()]
          .filter((s) => s.kind === 'video' && s.source === HALL_VIDEO && s.firstPacketAt !== undefined)
          .map((s) => {
            notKept += s.silencesDropped;
            return { firstAt: s.firstPacketAt!, lastAt: epoch(s.lastArrival), silences: s.silences };
          }),
      ),
      endAt,
      f.causeOf,
      SILENCE_RECORD_MS,
    ),
  );
  return matchVideoStops(silences, sfuStopsOf(f.sfuVideo.events, endAt), {
    pointIds: new Set(points.map((p) => p.o.pointId)),
    t0: f.joinT0,
    notKept,
  });
}
