// The load run's result in a few lines of text, as the CLI prints them after the run
// (the JSON file holds everything).
import type { LoadResult } from './result';
import { JOIN_STAGES } from './join-stages';

/** One line per concern: points, join, media, CPU, SFU cost, memory, signalling, check-ins, attendance, cluster, watchdog, errors. */
export function summary(r: LoadResult): string {
  const c = r.cost;
  const workers = Object.keys(c.cpuPct)
    .filter((k) => /(^|\.)worker\d+$/.test(k))
    .map((k) => `${k} ${c.cpuPct[k]}% / ${c.rssMiB[k]} MiB`)
    .join(', ');
  // Without media (--no-media) the media lines would only print NaN and 100 % loss.
  const media = r.options.media;
  const lines = [
    media
      ? `points: ${r.points.signalled}/${r.points.requested} signalled, ${r.points.receivingVideo} receiving video, ${r.points.withKeyFrame} with a key frame, ${r.points.starved.length} starved; ${r.media.readDelayed.length} with a read gap over 1 s from the generator's own stall (longest ${r.signalling.generatorPauses.stalls.reduce((a, x) => Math.max(a, x.ms), 0)} ms)`
      : `points: ${r.points.signalled}/${r.points.requested} signalled (no media)`,
    `join (${r.join.storm ? 'storm' : 'ramp'}): all within ${(r.join.allKeyFramesWithinMs / 1000).toFixed(1)} s; to first key frame complete p50 ${r.join.p50} ms, p95 ${r.join.p95} ms, max ${r.join.max} ms`,
    `media: ${r.media.packetsReceived} packets (${r.media.packetsPerSecond}/s, ${r.media.avgPacketBytes} B avg), loss per point p50 ${r.media.lossPct.p50}% p95 ${r.media.lossPct.p95}% worst ${r.media.lossPct.worst}% (${r.media.lossPct.pointsOver1Pct} points >= 1%), video jitter p50 ${r.media.jitterMs.video.p50} ms p95 ${r.media.jitterMs.video.p95} ms worst ${r.media.jitterMs.video.worst} ms; longest silence read p95 ${r.media.maxGapMs.p95} ms worst ${r.media.maxGapMs.worst} ms, on the wire (RTP timestamps) p95 ${r.media.wireGapMs.p95} ms worst ${r.media.wireGapMs.worst} ms; ${r.media.decrypted} decrypted (${r.media.srtpProfile}), ${r.media.authFailures} auth failures; ${r.media.rejoins} rejoins`,
    `cpu over ${c.windowSeconds} s (% of one core): server ${c.cpuPct.server ?? '(per node below)'}%, workers ${c.cpuPct.workersTotal}% (${workers}), redis ${c.cpuPct.redis}%, generator ${c.cpuPct.generator}%, ffmpeg ${c.cpuPct.ffmpeg}%, hall ${c.cpuPct.hall ?? 'n/a'}%; machine ${c.machineBusyPct}% busy, other ${c.otherPct}% ${c.alone ? '(alone)' : '(NOT ALONE)'}; ${c.udpRcvbufErrors} datagrams dropped at full receive buffers${
      r.media.lossSources ? ` (${r.media.lossSources.kernel.rcvbufErrorsJoin} more in the join)` : ''
    }`,
    `sfu: ${c.sfuUsPerPacket} us of worker CPU per forwarded packet; floor (GCM protect + send, same machine) ${c.floorGcmUsPerPacket ?? 'n/a'} us`,
    ...stageLines(r.join),
  ].filter((line) => media || !/^(join|media|sfu)\b/.test(line));
  const fb = r.media.feedback;
  if (media && fb)
    lines.push(
      `points' RTCP: ${fb.totals.transportFeedbacks} transport-cc, ${fb.totals.receiverReports} RR, ${fb.totals.nacksSent} NACK (${fb.totals.nackedPackets} packets: ${fb.totals.recovered} recovered, ${fb.totals.unrecovered} given up; ${fb.totals.late} late before a NACK), ${fb.totals.plisSent} PLI; ${fb.totals.senderReports} SR read; freezes per point p50 ${fb.freezesPerPoint.p50} p95 ${fb.freezesPerPoint.p95} worst ${fb.freezesPerPoint.worst} (${fb.pointsWithFreezes} points), frozen ms p95 ${fb.freezeMsPerPoint.p95} worst ${fb.freezeMsPerPoint.worst}; RTX ${fb.totals.rtxPackets} packets read (${fb.totals.rtxRecovered} recovered a NACKed packet, ${fb.totals.rtxDropped} dropped, ${fb.totals.rtxAuthFailures} not authenticated), ${fb.totals.rtxSkippedUnverified} skipped undecrypted (already here), per point p50 ${fb.rtxPerPoint.p50} p95 ${fb.rtxPerPoint.p95} worst ${fb.rtxPerPoint.worst} (${fb.pointsWithRtx} points)`,
    );
  const ls = r.media.lossSources;
  if (media && ls)
    lines.push(
      `loss sources: lost audio ${ls.lost.audio} / video ${ls.lost.video} (${ls.lost.beforeSteady} before the steady state, ${ls.lost.inSteady} in it, ${ls.lost.afterSteady} after; ${ls.lost.notDroppedHere} not dropped by the generator's own sockets, per point p95 ${ls.lossPctNotDroppedHere.p95}% in ${ls.lossPctNotDroppedHere.pointsOver1Pct} points >= 1%); kernel drops on the points' sockets ${ls.kernel.socketDrops} (${ls.kernel.pointsWithDrops} points, deepest queue p95 ${ls.kernel.rxQueuePeakBytes.p95} B max ${ls.kernel.rxQueuePeakBytes.max} B), machine RcvbufErrors ${ls.kernel.rcvbufErrorsJoin} in the join + ${ls.kernel.rcvbufErrorsSteady} in the steady state${
        ls.kernel.otherSockets.length
          ? ` (other sockets: ${ls.kernel.otherSockets
              .slice(0, 3)
              .map((o) => `${o.owner}:${o.port} ${o.drops}`)
              .join(', ')})`
          : ''
      }; held before keys dropped ${ls.heldDropped}, unknown SSRC ${ls.unknownPackets}, probation ${ls.probationPackets}; gaps read late p50 ${ls.gapReadLagMs.p50} ms p95 ${ls.gapReadLagMs.p95} ms max ${ls.gapReadLagMs.max} ms (${ls.gapReadLagMs.pointsOver2s}/${ls.gapReadLagMs.points} points past the SFU's 2 s NACK window)`,
    );
  if (media) lines.push(videoStopsLine(r.media.videoStops));
  const tcp = r.points.tcp;
  if (media && tcp.points)
    lines.push(
      `ICE-TCP: ${tcp.points} points, ${tcp.receivingVideo} receiving video; ${tcp.decrypted} decrypted, ${tcp.authFailures} auth failures; ${tcp.consentLost} consents lost`,
    );
  const imp = r.media.impaired;
  if (media && imp) {
    const g = (x: typeof imp.impaired) =>
      `loss after recovery p50 ${x.lossPct.p50}% p95 ${x.lossPct.p95}% worst ${x.lossPct.worst}% (video alone p95 ${x.videoLossPct.p95}% worst ${x.videoLossPct.worst}%), freezes p50 ${x.freezes.p50} p95 ${x.freezes.p95} (frozen p95 ${x.freezeMsP95} ms), ${x.nackedPackets} NACKed / ${x.recovered} recovered / ${x.unrecovered} given up, ${x.plisSent} PLI; RTX ${x.rtxPackets} read, ${x.rtxRecovered} recovering, ${x.rtxSkippedUnverified} skipped undecrypted, per point p50 ${x.rtxPerPoint.p50} worst ${x.rtxPerPoint.worst}`;
    lines.push(
      `impaired link (${imp.spec.lossPct}% loss, ${imp.spec.rateKbps || 'no'} kbit/s cap): ${imp.impaired.points} points: ${g(imp.impaired)}; the other ${imp.others.points}: ${g(imp.others)}`,
    );
  }
  if (media && r.media.hall)
    lines.push(
      `hall: ${r.media.hall
        .map(
          (l) =>
            `${l.width}x${l.height} ${l.packets} pkts, ${l.keyFrames} key frames (${l.keyFramesOnRequest} on request: ${l.plis} PLI, ${l.firs} FIR), ${l.resent}/${l.nackedPackets} NACKed resent`,
        )
        .join('; ')}`,
    );
  lines.push(
    `memory: server+workers+redis ${c.serverPlusWorkersRssMiB} MiB RSS (server ${c.rssMiB.server ?? 'per node below'} MiB)${
      c.perConsumer
        ? `; per consumer (${c.perConsumer.consumers}): worker CPU ${c.perConsumer.workerCpuPct}% of a core, worker RSS ${c.perConsumer.workerRssKiB} KiB`
        : ''
    }`,
    `signalling (generator's own loop p99 ${r.signalling.generatorLoopP99Ms} ms is inside the client-side figures): server event-loop p99 max ${r.signalling.eventLoopP99Ms.max} ms (median ${r.signalling.eventLoopP99Ms.median} ms over ${r.signalling.eventLoopP99Ms.windows} windows), health ack p95 ${r.signalling.healthAckMs.p95} ms, monitor delta p95 ${r.signalling.monitorDeltaMs.p95} ms max ${r.signalling.monitorDeltaMs.max} ms`,
    r.checkins.requested
      ? `check-ins: ${r.checkins.ok} ok, ${r.checkins.already} already, ${r.checkins.failed} failed in ${r.checkins.tookSeconds} s; POST p95 ${r.checkins.postMs.p95} ms, GET p95 ${r.checkins.getMs.p95} ms`
      : 'check-ins: none',
    `attendance: server ${r.attendance.serverCheckedIn} checked in / ${r.attendance.serverDelegates} delegates reported; sent ${r.attendance.sentCheckins} / ${r.attendance.sentHeadcount}: ${r.attendance.match ? 'MATCH' : 'MISMATCH'}`,
  );
  if (r.hostActs) {
    const h = r.hostActs;
    const n = (act: string) => h.acts.filter((x) => x.act === act).length;
    lines.push(
      `host: ${n('agenda:go')} agenda moves, floor ${n('floor:grant')} grant(s) / ${n('floor:revoke')} revoke(s); ack p95 ${h.ackMs.p95} ms; points' views p95 ${h.viewMs.p95} ms max ${h.viewMs.max} ms; ${h.missed} missed; ${h.acts.filter((x) => x.error).length} refused`,
    );
  }
  if (r.cluster) {
    const k = r.cluster;
    const nodes = k.nodes.map((n) => `${n.name} ${c.cpuPct[n.name]}% / ${c.rssMiB[n.name]} MiB`).join(', ');
    lines.push(
      `cluster: ${nodes}; points per node ${JSON.stringify(k.pointsPerNode)}, ${k.moves} moved`,
      `pipe hop: origin workers ${k.originWorkersPct}% (${k.originUsPerPipedPacket} us per piped packet), edge workers ${k.edgeWorkersPct}% (${k.edgeUsPerForwardedPacket} us per forwarded packet); ${k.pipes.map((p) => `${p.edge} pipe ${p.bytesPerSecond} B/s ~${p.packetsPerSecondEst} pkt/s`).join(', ')}`,
    );
  }
  for (const u of r.media.undecryptable.slice(0, 5))
    lines.push(
      `never decrypted: ${u.pointId} ${u.kind} ssrc ${u.ssrc} from seq ${u.firstSeq}, ${u.received} packets, ${u.authFailures} failed checks: ${u.diagnosis ?? 'not diagnosed'}`,
    );
  const w = r.media.watchdog;
  lines.push(
    `watchdog: ${w.rebuilds} rebuilds at ${w.points.length} points (${w.reasons.noPackets} no packets, ${
      w.reasons.undecryptable
    } undecryptable, ${w.reasons.drill} drill; ${w.strikes} strikes${
      w.drilled.length ? `; ${w.drilled.length} stalled on purpose: ${w.drilled.slice(0, 5).join(', ')}` : ''
    }${
      w.drillLeft.length
        ? `, ${w.drillLeft.length} of them left and rejoined before their watchdog fired (not drilled): ${w.drillLeft.slice(0, 5).join(', ')}`
        : ''
    }); silence not counted: ${(w.held.generatorBehindMs / 1000).toFixed(1)} s generator behind, ${(
      w.held.peersSilentMs / 1000
    ).toFixed(1)} s others silent too (generator loop behind ${
      w.loopBehindMs === null ? 'not measured' : `${(w.loopBehindMs / 1000).toFixed(1)} s`
    })${sharedClause(w.sharedSilences)}${w.points
      .slice(0, 5)
      .map(
        (p) =>
          `; ${p.pointId} ${p.rebuilds
            .map(
              (b) =>
                `#${b.attempt} at ${(b.atMs / 1000).toFixed(1)} s, ${b.reason}${
                  b.peers ? `, ${b.peers.receiving}/${b.peers.watched} others receiving` : ''
                } (${b.stalled.map((s) => `${s.kind} ${s.received} packets, ${s.decrypted} decrypted`).join(', ')})`,
            )
            .join(' ')} ${p.receivingAfter ? '→ receiving after' : '→ STILL NOT RECEIVING'}`,
      )
      .join('')}`,
  );
  if (r.errors.length) lines.push(`errors (${r.errors.length}): ${r.errors.slice(0, 5).join(' | ')}`);
  return lines.join('\n');
}

type Watchdog = LoadResult['media']['watchdog'];

/** The watchdog drill's points by outcome, and why the drill failed (undefined: it passed, or there was none). */
export interface DrillVerdict {
  /** Stalled on purpose, and rebuilt by their watchdog. */
  rebuilt: string[];
  /** Stalled on purpose, then left and rejoined before their watchdog fired: not applicable. */
  left: string[];
  /** Stalled on purpose, still stalled, and not rebuilt: what fails the drill. */
  missed: string[];
  failure: string | undefined;
}

/**
 * The watchdog drill's verdict (`--stall N`): the points stalled on purpose keep their
 * socket and ICE up and read no media, so their watchdog must rebuild every one of them.
 * A point that left and rejoined before its watchdog fired (`--churn`) is no longer
 * stalled: neither rebuilt nor missed, it is counted apart. A drill that stalled no
 * point (no media, or every point cut), or whose every stalled point left, failed too: it
 * drilled nothing.
 */
export function drillVerdict(w: Pick<Watchdog, 'drilled' | 'drillLeft' | 'points'>, stall: number): DrillVerdict {
  const byDrill = new Set(w.points.filter((p) => p.rebuilds.some((b) => b.reason === 'drill')).map((p) => p.pointId));
  const gone = new Set(w.drillLeft);
  const rebuilt = w.drilled.filter((id) => byDrill.has(id));
  const left = w.drilled.filter((id) => !byDrill.has(id) && gone.has(id));
  const missed = w.drilled.filter((id) => !byDrill.has(id) && !gone.has(id));
  const verdict = (failure?: string): DrillVerdict => ({ rebuilt, left, missed, failure });
  if (!w.drilled.length)
    return verdict(
      stall > 0 ? `watchdog drill failed: --stall ${stall} stalled no point (no media, or every point cut)` : undefined,
    );
  if (missed.length)
    return verdict(
      `watchdog drill failed: ${missed.length} of the ${w.drilled.length} points stalled on purpose (--stall) not rebuilt: ${missed.slice(0, 5).join(', ')}${
        left.length ? ` (${left.length} more left and rejoined before their watchdog fired: not counted)` : ''
      }`,
    );
  if (!rebuilt.length)
    return verdict(
      `watchdog drill failed: all ${w.drilled.length} points stalled on purpose (--stall) left and rejoined before their watchdog fired (--churn): nothing drilled`,
    );
  return verdict();
}

/** Why the run failed the watchdog drill, or undefined (see drillVerdict). */
export function drillFailure(r: LoadResult): string | undefined {
  return drillVerdict(r.media.watchdog, r.options.stall ?? 0).failure;
}

/**
 * The silences most points shared, loud: the generator held them at most 30 s, and with it
 * keeping up they are the hall's or the SFU's, which a point's rebuild does not cure.
 */
function sharedClause(s: LoadResult['media']['watchdog']['sharedSilences']): string {
  if (!s.episodes) return '';
  const longest = (s.longestMs / 1000).toFixed(1);
  return `; SHARED SILENCE ${s.episodes} times: up to ${s.pointsAtPeak} points silent together, longest ${longest} s, ${s.generatorKeptUp} with the generator keeping up (the hall or the SFU stopped; a rebuild cures none)`;
}

/** The summary's lines: the stages (p50/p95/max in ms since the storm's start) and the Chromium points. */
function stageLines(join: LoadResult['join']): string[] {
  const lines = [
    `join stages (ms since the storm's start, p50/p95/max, points): ${JOIN_STAGES.map((k) => {
      const f = join.stages[k];
      return `${k} ${f.p50}/${f.p95}/${f.max} (${f.points})`;
    }).join(', ')}`,
  ];
  const c = join.chromium;
  if (c)
    lines.push(
      `chromium points (${c.pages}): first decoded frame p50 ${c.firstFrameMs.p50} ms, p95 ${c.firstFrameMs.p95} ms, max ${c.firstFrameMs.max} ms since the storm's start (${c.firstFrameMs.points} decoded); ${c.perPage
        .map((p) => `${p.pointId} ${p.firstFrameMs ?? p.error ?? 'none'}`)
        .join(', ')}`,
      `chromium page stages (ms since each page's navigation, p50/p95/max, pages): ${Object.entries(c.stagesMs)
        .map(([k, f]) => `${k} ${f.p50}/${f.p95}/${f.max} (${f.points})`)
        .join(', ')}`,
    );
  return lines;
}

/** The points' video silences against the SFU's stops (media.videoStops), on one line. */
function videoStopsLine(v: LoadResult['media']['videoStops']): string {
  if (!v.available) return `video stops (SFU log): not available: ${v.reason}`;
  const g = v.silences;
  const s = v.sfuStops;
  const list = <T>(xs: T[], f: (x: T) => string) => (xs.length ? ` (${xs.slice(0, 5).map(f).join(', ')})` : '');
  return (
    `video stops: ${g.count} silences over ${v.thresholdMs / 1000} s at ${g.points} points, ${g.matched} matched an SFU stop (within ${v.toleranceMs} ms; ${g.coveredPct ? `covered p10 ${g.coveredPct.p10} % p50 ${g.coveredPct.p50} %` : 'covered: none matched'}, ${g.matchedUnderHalf} under half${list(g.matchedUnderHalfList, (x) => `${x.pointId} at ${(x.atMs / 1000).toFixed(1)} s ${x.ms} ms ${x.coveredPct} %`)}), ${g.unmatched} not${list(g.unmatchedList, (x) => `${x.pointId} at ${(x.atMs / 1000).toFixed(1)} s ${x.ms} ms ${x.cause}`)}${g.notKept ? `, ${g.notKept} silences not kept (past 200 in a stream)` : ''}; ` +
    `SFU: ${s.count} stops at ${s.points} points (${s.open} still open, ${s.overThreshold} over ${v.thresholdMs / 1000} s: ${s.withSilence} with a silence, ${s.withoutSilence} without${list(s.withoutSilenceList, (x) => `${x.pointId} at ${(x.atMs / 1000).toFixed(1)} s ${x.ms} ms`)}), ${s.otherPoints} at other points; estimate at the stops p10 ${v.estimateKbps.p10} kbps p50 ${v.estimateKbps.p50} kbps`
  );
}
