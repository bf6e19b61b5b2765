// The life of a briefing session as pure functions: which transitions are legal, which
// fields may change in which state, the times of its scheduled jobs, who is invited.
// The state machine itself is the contract's (contract/session-state.ts), shared with the host page.
import type { Invite, Point, Session } from '../../contract/api';
import type { Issue } from '../../contract/errors';
import { OPEN_STATES } from '../../contract/session-state';

export { CONTENT_EDITABLE, TIMES_EDITABLE, TRANSITIONS, canTransition } from '../../contract/session-state';

export const DEFAULT_LOBBY_MINUTES = 60;
/** A join link stays usable this long after the session ends, for a late reconnect or report. */
export const LINK_GRACE_MS = 30 * 60_000;
/** A session never ended by its host stops admitting points this long after its planned end. */
export const LINK_HARD_LIMIT_MS = 12 * 60 * 60_000;

export type SessionJobKind = 'open-lobby' | 'start-reached' | 'overrun';
export interface PlannedJob {
  kind: SessionJobKind;
  at: Date;
}

/**
 * The jobs a session should have queued in its current state. Rescheduling recomputes
 * this list and the scheduler makes the queue match it.
 */
export function plannedJobs(s: Session, overrunAfterMs: number): PlannedJob[] {
  const jobs: PlannedJob[] = [];
  if (s.state === 'scheduled') jobs.push({ kind: 'open-lobby', at: new Date(s.lobbyOpensAt) });
  if ((s.state === 'scheduled' || s.state === 'lobby') && !s.startReachedAt) {
    jobs.push({ kind: 'start-reached', at: new Date(s.scheduledStart) });
  }
  if (OPEN_STATES.includes(s.state) && !s.overrunAt) {
    jobs.push({ kind: 'overrun', at: new Date(Date.parse(s.plannedEnd) + overrunAfterMs) });
  }
  return jobs;
}

export interface TimeCheck {
  scheduledStart: string;
  lobbyOpensAt: string;
  plannedEnd: string;
}

/** Returns the problems with a session's times, empty when they are consistent. */
export function timeProblems(t: TimeCheck): Issue[] {
  const start = Date.parse(t.scheduledStart);
  const lobby = Date.parse(t.lobbyOpensAt);
  const end = Date.parse(t.plannedEnd);
  const out: Issue[] = [];
  const day = { hours: 24 };
  if (lobby > start) {
    out.push({ path: 'lobbyOpensAt', issue: 'lobby_after_start', message: 'the lobby must open before the start' });
  }
  if (start - lobby > 24 * 3600_000) {
    out.push({
      path: 'lobbyOpensAt',
      issue: 'lobby_too_early',
      params: day,
      message: 'the lobby may open at most 24 hours before the start',
    });
  }
  if (end <= start) {
    out.push({ path: 'plannedEnd', issue: 'end_before_start', message: 'the planned end must be after the start' });
  }
  if (end - start > 24 * 3600_000) {
    out.push({ path: 'plannedEnd', issue: 'too_long', params: day, message: 'a session lasts at most 24 hours' });
  }
  return out;
}

/** The invited points, in registry order. Unknown ids in an explicit list are returned apart. */
export function resolveInvite(invite: Invite, registry: Point[]): { pointIds: string[]; unknown: string[] } {
  switch (invite.mode) {
    case 'all':
      return { pointIds: registry.map((p) => p.id), unknown: [] };
    case 'districts': {
      const wanted = new Set(invite.districts);
      const known = new Set(registry.filter((p) => p.level === 'district').map((p) => p.id));
      return {
        pointIds: registry.filter((p) => p.district !== null && wanted.has(p.district)).map((p) => p.id),
        unknown: invite.districts.filter((d) => !known.has(d)),
      };
    }
    case 'levels': {
      const wanted = new Set(invite.levels);
      return { pointIds: registry.filter((p) => wanted.has(p.level)).map((p) => p.id), unknown: [] };
    }
    case 'points': {
      const wanted = new Set(invite.pointIds);
      const known = new Set(registry.map((p) => p.id));
      return {
        pointIds: registry.filter((p) => wanted.has(p.id)).map((p) => p.id),
        unknown: [...wanted].filter((id) => !known.has(id)),
      };
    }
  }
}

/** When a join link for this session is accepted: from lobby opening to end plus a grace. */
export function linkWindow(s: Session): { from: Date; until: Date } {
  const from = new Date(s.lobbyOpensAt);
  const until = s.endedAt
    ? new Date(Date.parse(s.endedAt) + LINK_GRACE_MS)
    : new Date(Date.parse(s.plannedEnd) + LINK_HARD_LIMIT_MS);
  return { from, until };
}
