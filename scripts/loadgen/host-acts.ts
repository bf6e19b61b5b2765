// The host's hand on the briefing during a load run, through the real `/host` socket
// events the console sends: the agenda moved on every few minutes (`agenda:go`) and the
// floor handed to a connected point and taken back (`floor:grant`, `floor:revoke`). Each
// action is timed twice: the host's acknowledgement, and the time until every connected
// point's page had the new view (its caption, its floor holder) pushed to it.
import type { HostSocket } from '../../client/src/net/sockets';
import { sleep } from './http';
import type { VirtualPoint } from './point';
import { ask } from './sockets';
import { round, rounded, summarize, type Summary } from './stats';

export interface HostActsSpec {
  /** Move to the next agenda item every this many seconds of the steady state (0: never). */
  agendaEverySeconds: number;
  /** Give the floor to a point half-way through and take it back. */
  floorHandover: boolean;
}

export type HostAct =
  | { atS: number; act: 'agenda:go'; index: number }
  | { atS: number; act: 'floor:grant' }
  | { atS: number; act: 'floor:revoke' };

export interface HostActResult {
  act: HostAct['act'];
  /** Seconds into the steady state it was sent. */
  atS: number;
  /** The agenda item moved to, or the point given the floor (and taken back from). */
  index?: number;
  pointId?: string;
  ackMs: number | null;
  /** Points connected when it was sent, and those whose view changed within 10 s. */
  points: number;
  reached: number;
  /** From the request sent to each point's new view. */
  viewMs: Summary;
  /** floor:grant: from the request to the holder's `floor:you`. */
  holderMs?: number | null;
  error?: string;
}

export interface HostActsResult {
  spec: HostActsSpec;
  acts: HostActResult[];
  /** Every action's ack and every point's view change, together. */
  ackMs: Summary;
  viewMs: Summary;
  /** Points (summed over the actions) whose view did not change within 10 s. */
  missed: number;
}

/** How long the floor is held: a tenth of the steady state, 10-60 s. */
export function floorHoldSeconds(steadySeconds: number): number {
  return Math.round(Math.min(60, Math.max(10, steadySeconds / 10)));
}

/**
 * What the host does, in seconds from the steady state's start: the next agenda item every
 * `agendaEverySeconds` (cycling through `agendaItems`; none in the last 5 s, which leave
 * time to see it arrive), and with `floorHandover` the floor given half-way through and
 * taken back `floorHoldSeconds` later. Ordered by time.
 */
export function hostSchedule(spec: HostActsSpec, steadySeconds: number, agendaItems: number): HostAct[] {
  if (!(steadySeconds > 0)) throw new Error(`the steady state must last a positive time, not ${steadySeconds} s`);
  if (!Number.isInteger(agendaItems) || agendaItems < 1)
    throw new Error(`the agenda must have at least one item, not ${agendaItems}`);
  const acts: HostAct[] = [];
  const last = steadySeconds - 5;
  if (spec.agendaEverySeconds > 0 && agendaItems > 1)
    for (let k = 1; k * spec.agendaEverySeconds <= last; k++)
      acts.push({ atS: k * spec.agendaEverySeconds, act: 'agenda:go', index: k % agendaItems });
  if (spec.floorHandover) {
    const grant = Math.round(steadySeconds / 2);
    const revoke = Math.min(grant + floorHoldSeconds(steadySeconds), Math.max(grant, last));
    acts.push({ atS: grant, act: 'floor:grant' }, { atS: revoke, act: 'floor:revoke' });
  }
  // Stable: at the same second the agenda moves first, the grant comes before the revoke.
  return acts.sort((a, b) => a.atS - b.atS);
}

/** The view key a point's page shows once the act is done (PointView.changes). */
function viewKey(a: HostAct, holder: string): string {
  if (a.act === 'agenda:go') return `agenda:${a.index}`;
  return a.act === 'floor:grant' ? `floor:${holder}` : 'floor:';
}

/**
 * Plays the schedule from `t0` (epoch ms) through the host's socket until `until`. The
 * floor goes to the connected point in the middle of the list.
 */
export async function runHostActs(
  host: HostSocket,
  points: VirtualPoint[],
  spec: HostActsSpec,
  schedule: HostAct[],
  t0: number,
  until: number,
  log: (l: string) => void,
): Promise<HostActsResult> {
  const acts: HostActResult[] = [];
  const allViewMs: number[] = [];
  let holder = '';
  for (const a of schedule) {
    const due = t0 + a.atS * 1000;
    if (due > until) break;
    await sleep(Math.max(0, due - Date.now()));
    if (a.act === 'floor:grant') {
      const mid = Math.floor(points.length / 2);
      const p = [...points.slice(mid), ...points.slice(0, mid)].find((x) => x.socket?.connected);
      holder = p?.o.pointId ?? '';
    }
    const watched = points.filter((p) => p.socket?.connected);
    const key = viewKey(a, holder);
    const out: HostActResult = {
      act: a.act,
      atS: a.atS,
      ...(a.act === 'agenda:go' ? { index: a.index } : { pointId: holder }),
      ackMs: null,
      points: watched.length,
      reached: 0,
      viewMs: summarize([]),
    };
    const sentAt = Date.now();
    try {
      if (a.act === 'agenda:go') await ask(host, 'agenda:go', { index: a.index });
      else if (a.act === 'floor:grant') await ask(host, 'floor:grant', { pointId: holder });
      else await ask(host, 'floor:revoke', {});
      out.ackMs = Date.now() - sentAt;
    } catch (err) {
      out.error = (err as Error).message;
    }
    const arrived = (p: VirtualPoint) => (p.view.changes.get(key) ?? 0) >= sentAt;
    const limit = sentAt + 10_000;
    while (!out.error && Date.now() < limit && !watched.every(arrived)) await sleep(100);
    const ms = watched.filter(arrived).map((p) => p.view.changes.get(key)! - sentAt);
    allViewMs.push(...ms);
    out.reached = ms.length;
    out.viewMs = rounded(summarize(ms));
    if (a.act === 'floor:grant') {
      const you = points.find((p) => p.o.pointId === holder)?.view.changes.get('you:true');
      out.holderMs = you !== undefined && you >= sentAt ? you - sentAt : null;
    }
    log(
      `host ${a.act}${out.index !== undefined ? ` ${out.index}` : ` ${holder}`}: ack ${out.ackMs ?? out.error} ms, ` +
        `${out.reached}/${out.points} points' views in p95 ${round(out.viewMs.p95, 0)} ms, max ${round(out.viewMs.max, 0)} ms`,
    );
    acts.push(out);
  }
  return {
    spec,
    acts,
    ackMs: rounded(summarize(acts.map((a) => a.ackMs ?? NaN))),
    viewMs: rounded(summarize(allViewMs)),
    missed: acts.reduce((n, a) => n + (a.points - a.reached), 0),
  };
}
