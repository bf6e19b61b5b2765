// Briefing sessions: creating and editing them, moving them through their states (by
// the host or by a scheduled job), keeping their jobs in line with their times.
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  type AgendaItem,
  type AgendaItemInput,
  type Page,
  type Session,
  type SessionAction,
  type SessionCreate,
  type SessionState,
  type SessionSummary,
  type SessionUpdate,
  AgendaItemInputSchema,
  InviteSchema,
} from '../../contract/api';
import { ACTION_TARGET, OPEN_STATES } from '../../contract/session-state';
import { AppError, badRequest, conflict, notFound, why } from '../../errors';
import type { PointRegistry } from '../points/registry';
import type { SessionEvents } from './events';
import {
  CONTENT_EDITABLE,
  DEFAULT_LOBBY_MINUTES,
  TIMES_EDITABLE,
  canTransition,
  plannedJobs,
  resolveInvite,
  timeProblems,
  type PlannedJob,
  type SessionJobKind,
} from './model';
import type { SessionStore } from './store';

/** What the service needs from the job queue (server/jobs implements it). */
export interface SessionScheduler {
  /** Makes the session's queued jobs exactly `jobs`: adds, moves or removes as needed. */
  sync(sessionId: string, jobs: PlannedJob[]): Promise<void>;
}

export interface Actor {
  username: string;
}
const SYSTEM: Actor = { username: 'system' };

/** A job that fires this early (clock skew, a move that raced the job) still counts as on time. */
const ON_TIME_TOLERANCE_MS = 1500;

const newId = (bytes: number) => randomBytes(bytes).toString('base64url');
const iso = (d: Date) => d.toISOString();
const normIso = (s: string) => new Date(s).toISOString();

export interface SessionServiceOptions {
  store: SessionStore;
  points: PointRegistry;
  events: SessionEvents;
  scheduler: SessionScheduler;
  logger: Logger;
  /** How long past its planned end a session is flagged as overrunning. */
  overrunAfterMs: number;
  now?: () => Date;
}

export class SessionService {
  readonly #store: SessionStore;
  readonly #points: PointRegistry;
  readonly #events: SessionEvents;
  readonly #scheduler: SessionScheduler;
  readonly #log: Logger;
  readonly #overrunAfterMs: number;
  readonly #now: () => Date;

  constructor(o: SessionServiceOptions) {
    this.#store = o.store;
    this.#points = o.points;
    this.#events = o.events;
    this.#scheduler = o.scheduler;
    this.#log = o.logger.child({ component: 'sessions' });
    this.#overrunAfterMs = o.overrunAfterMs;
    this.#now = o.now ?? (() => new Date());
  }

  // ── reads ──────────────────────────────────────────────────────────────────────────

  get(id: string): Promise<Session | undefined> {
    return this.#store.get(id);
  }

  async require(id: string): Promise<Session> {
    const s = await this.#store.get(id);
    if (!s) throw notFound(`session ${id}`);
    return s;
  }

  /** Sessions in the lobby or live that invite the point: live first, then by start. */
  async openFor(pointId: string): Promise<Session[]> {
    const rank = (s: Session) => (s.state === 'live' ? 0 : 1);
    return (await this.#store.all())
      .filter((s) => (s.state === 'live' || s.state === 'lobby') && s.invitedPointIds.includes(pointId))
      .sort((a, b) => rank(a) - rank(b) || a.scheduledStart.localeCompare(b.scheduledStart));
  }

  async list(q: { limit: number; offset: number; state?: SessionState | undefined }): Promise<Page<SessionSummary>> {
    const all = (await this.#store.all()).filter((s) => !q.state || s.state === q.state);
    return {
      items: all.slice(q.offset, q.offset + q.limit).map(summarize),
      total: all.length,
      limit: q.limit,
      offset: q.offset,
    };
  }

  // ── writes ─────────────────────────────────────────────────────────────────────────

  async create(input: SessionCreate, by: Actor): Promise<Session> {
    const now = iso(this.#now());
    const scheduledStart = normIso(input.scheduledStart);
    const lobbyOpensAt = input.lobbyOpensAt
      ? normIso(input.lobbyOpensAt)
      : iso(new Date(Date.parse(scheduledStart) - DEFAULT_LOBBY_MINUTES * 60_000));
    const plannedEnd = normIso(input.plannedEnd);
    const problems = timeProblems({ scheduledStart, lobbyOpensAt, plannedEnd });
    if (problems.length) throw badRequest('inconsistent times', problems);
    const invite = InviteSchema.parse(input.invite ?? { mode: 'all' });
    const invited = await this.#resolve(invite);
    const session: Session = {
      id: newId(9),
      title: input.title.trim(),
      description: (input.description ?? '').trim(),
      state: 'draft',
      scheduledStart,
      lobbyOpensAt,
      plannedEnd,
      agenda: buildAgenda(input.agenda ?? []),
      invite,
      invitedPointIds: invited.pointIds,
      invitedDelegates: invited.delegates,
      startedAt: null,
      endedAt: null,
      startReachedAt: null,
      overrunAt: null,
      history: [{ from: null, to: 'draft', at: now, by: by.username }],
      createdBy: by.username,
      createdAt: now,
      updatedAt: now,
      rev: 1,
    };
    if (!(await this.#store.put(session, 0))) throw conflict('session id collision; retry');
    this.#log.info({ sessionId: session.id, by: by.username }, 'session created');
    this.#events.emit('stateChanged', { sessionId: session.id, from: null, to: 'draft', at: now, by: by.username });
    return session;
  }

  async update(id: string, patch: SessionUpdate, by: Actor): Promise<Session> {
    const touchesTimes =
      patch.scheduledStart !== undefined || patch.lobbyOpensAt !== undefined || patch.plannedEnd !== undefined;
    const { next, prev } = await this.#mutate(
      id,
      async (cur) => {
        if (!CONTENT_EDITABLE.includes(cur.state))
          throw conflict(
            `a ${cur.state} session can no longer be edited`,
            undefined,
            why('not_editable', { state: cur.state }),
          );
        const onlyEnd = patch.scheduledStart === undefined && patch.lobbyOpensAt === undefined;
        if (touchesTimes && !TIMES_EDITABLE.includes(cur.state) && !onlyEnd) {
          throw conflict(
            `the start and lobby times of a ${cur.state} session can no longer change`,
            undefined,
            why('times_locked', { state: cur.state }),
          );
        }
        const s: Session = { ...cur };
        if (patch.title !== undefined) s.title = patch.title.trim();
        if (patch.description !== undefined) s.description = patch.description.trim();
        if (touchesTimes) {
          // Moving the start keeps the lobby lead time and the duration unless they are given too.
          const lead = Date.parse(cur.scheduledStart) - Date.parse(cur.lobbyOpensAt);
          const duration = Date.parse(cur.plannedEnd) - Date.parse(cur.scheduledStart);
          s.scheduledStart = patch.scheduledStart ? normIso(patch.scheduledStart) : cur.scheduledStart;
          const start = Date.parse(s.scheduledStart);
          s.lobbyOpensAt = patch.lobbyOpensAt
            ? normIso(patch.lobbyOpensAt)
            : patch.scheduledStart
              ? iso(new Date(start - lead))
              : cur.lobbyOpensAt;
          s.plannedEnd = patch.plannedEnd
            ? normIso(patch.plannedEnd)
            : patch.scheduledStart
              ? iso(new Date(start + duration))
              : cur.plannedEnd;
          const problems = timeProblems(s);
          if (problems.length) throw badRequest('inconsistent times', problems);
          // A moved start warns the host again; a moved end may overrun again.
          if (s.scheduledStart !== cur.scheduledStart) s.startReachedAt = null;
          if (s.plannedEnd !== cur.plannedEnd) s.overrunAt = null;
        }
        if (patch.agenda !== undefined) s.agenda = buildAgenda(patch.agenda);
        if (patch.invite !== undefined) {
          const invited = await this.#resolve(InviteSchema.parse(patch.invite));
          s.invite = InviteSchema.parse(patch.invite);
          s.invitedPointIds = invited.pointIds;
          s.invitedDelegates = invited.delegates;
        }
        return s;
      },
      by,
    );
    const fields = Object.keys(patch).filter((k) => k !== 'agenda');
    if (fields.length) this.#events.emit('sessionUpdated', { sessionId: id, fields });
    if (patch.agenda !== undefined) this.#events.emit('agendaChanged', { sessionId: id, agenda: next.agenda });
    if (touchesTimes) await this.#sync(next, prev);
    return next;
  }

  async remove(id: string, by: Actor): Promise<void> {
    const cur = await this.require(id);
    if (cur.state !== 'draft' && cur.state !== 'cancelled') {
      throw conflict(
        `only draft or cancelled sessions can be deleted; this one is ${cur.state}`,
        undefined,
        why('transition', { action: 'delete', state: cur.state }),
      );
    }
    if (!(await this.#store.delete(id, cur.rev)))
      throw conflict('the session changed meanwhile; retry', undefined, why('changed_meanwhile'));
    await this.#sync({ ...cur, state: 'cancelled' });
    this.#log.info({ sessionId: id, by: by.username }, 'session deleted');
  }

  /** A host's action: schedule, open the lobby early, start, end, cancel. */
  async act(id: string, action: SessionAction, by: Actor): Promise<Session> {
    const to = ACTION_TARGET[action];
    const { next, prev } = await this.#mutate(
      id,
      async (cur) => {
        if (!canTransition(cur.state, to)) {
          throw conflict(
            `cannot ${action} a ${cur.state} session`,
            { state: cur.state, action },
            why('transition', { action, state: cur.state }),
          );
        }
        const s: Session = { ...cur };
        if (action === 'schedule') {
          if (Date.parse(cur.plannedEnd) <= this.#now().getTime()) {
            throw badRequest(
              'the planned end has passed; move the times first',
              [{ path: 'plannedEnd', issue: 'in_past', message: 'in the past' }],
              why('end_passed'),
            );
          }
          // An "all" or "by district" invitation follows the registry until the session is scheduled.
          const invited = await this.#resolve(cur.invite);
          s.invitedPointIds = invited.pointIds;
          s.invitedDelegates = invited.delegates;
          if (s.invitedPointIds.length === 0) throw conflict('no point is invited', undefined, why('no_point_invited'));
        }
        return this.#enter(s, to, by);
      },
      by,
    );
    this.#announce(prev, next, by);
    await this.#sync(next, prev);
    return next;
  }

  /**
   * Runs a scheduled job. Idempotent: a transition that already happened, a session that
   * moved on, or a job left over from earlier times does nothing.
   */
  async runJob(kind: SessionJobKind, sessionId: string): Promise<'done' | 'skipped'> {
    const log = this.#log.child({ sessionId, job: kind });
    const cur = await this.#store.get(sessionId);
    if (!cur) {
      log.info('job for a deleted session: nothing to do');
      return 'skipped';
    }
    const now = this.#now().getTime() + ON_TIME_TOLERANCE_MS;
    let result: { next: Session; prev: Session } | undefined;
    try {
      switch (kind) {
        case 'open-lobby':
          if (cur.state !== 'scheduled' || now < Date.parse(cur.lobbyOpensAt)) break;
          result = await this.#mutate(
            sessionId,
            async (s) => {
              if (s.state !== 'scheduled') throw new AppError('conflict', 'moved on');
              return this.#enter({ ...s }, 'lobby', SYSTEM);
            },
            SYSTEM,
          );
          this.#announce(result.prev, result.next, SYSTEM);
          break;
        case 'start-reached':
          if (!['scheduled', 'lobby'].includes(cur.state) || cur.startReachedAt) break;
          if (now < Date.parse(cur.scheduledStart)) break;
          result = await this.#mutate(sessionId, async (s) => ({ ...s, startReachedAt: iso(this.#now()) }), SYSTEM);
          this.#events.emit('startReached', {
            sessionId,
            scheduledStart: result.next.scheduledStart,
            state: result.next.state,
          });
          break;
        case 'overrun':
          if (!OPEN_STATES.includes(cur.state) || cur.overrunAt) break;
          if (now < Date.parse(cur.plannedEnd) + this.#overrunAfterMs) break;
          result = await this.#mutate(sessionId, async (s) => ({ ...s, overrunAt: iso(this.#now()) }), SYSTEM);
          this.#events.emit('overrun', { sessionId, plannedEnd: result.next.plannedEnd, at: result.next.overrunAt! });
          log.warn({ plannedEnd: cur.plannedEnd }, 'session runs far past its planned end');
          break;
      }
    } catch (err) {
      if (err instanceof AppError && err.code === 'conflict') {
        log.info('session moved on while the job ran: nothing to do');
        return 'skipped';
      }
      throw err;
    }
    if (!result) {
      log.info({ state: cur.state }, 'job not applicable now: nothing to do');
      return 'skipped';
    }
    log.info({ state: result.next.state }, 'job applied');
    if (result.prev.state !== result.next.state) await this.#sync(result.next, result.prev);
    return 'done';
  }

  /** Makes every open session's queued jobs match its times (start-up, and periodically). */
  async reconcileJobs(): Promise<number> {
    const open = (await this.#store.all()).filter((s) => OPEN_STATES.includes(s.state));
    for (const s of open) await this.#sync(s);
    return open.length;
  }

  // ── internals ──────────────────────────────────────────────────────────────────────

  #enter(s: Session, to: SessionState, by: Actor): Session {
    const at = iso(this.#now());
    s.history = [...s.history, { from: s.state, to, at, by: by.username }];
    if (to === 'live') s.startedAt = at;
    if (to === 'ended') s.endedAt = at;
    s.state = to;
    return s;
  }

  #announce(prev: Session, next: Session, by: Actor): void {
    if (prev.state === next.state) return;
    this.#log.info({ sessionId: next.id, from: prev.state, to: next.state, by: by.username }, 'session state changed');
    this.#events.emit('stateChanged', {
      sessionId: next.id,
      from: prev.state,
      to: next.state,
      // The transition's own instant (also endedAt / startedAt), not the write's
      // updatedAt, which is taken a moment later: presences closed at the end must end
      // exactly when the session did.
      at: next.history.at(-1)?.at ?? next.updatedAt,
      by: by.username,
    });
  }

  /** Read, change, compare-and-set; retried a few times when someone else wrote first. */
  async #mutate(
    id: string,
    change: (cur: Session) => Promise<Session>,
    _by: Actor,
  ): Promise<{ next: Session; prev: Session }> {
    for (let attempt = 0; ; attempt++) {
      const prev = await this.require(id);
      const next = await change(structuredClone(prev));
      next.rev = prev.rev + 1;
      next.updatedAt = iso(this.#now());
      if (await this.#store.put(next, prev.rev)) return { next, prev };
      if (attempt >= 4) {
        throw conflict('the session is being changed by someone else; retry', undefined, why('changed_meanwhile'));
      }
    }
  }

  async #sync(s: Session, _prev?: Session): Promise<void> {
    try {
      await this.#scheduler.sync(s.id, plannedJobs(s, this.#overrunAfterMs));
    } catch (err) {
      // The change is stored; the periodic reconcile queues the jobs once the queue answers.
      this.#log.error({ err, sessionId: s.id }, 'could not update the scheduled jobs; will retry');
    }
  }

  async #resolve(invite: Session['invite']): Promise<{ pointIds: string[]; delegates: number }> {
    const registry = await this.#points.all();
    const { pointIds, unknown } = resolveInvite(invite, registry);
    if (unknown.length) {
      const list = unknown.slice(0, 10).join(', ');
      throw badRequest(
        `unknown point or district: ${list}`,
        [{ path: 'invite', issue: 'unknown_points', params: { list }, message: `unknown: ${unknown.join(', ')}` }],
        why('unknown_points', { list }),
      );
    }
    const byId = new Map(registry.map((p) => [p.id, p]));
    return { pointIds, delegates: pointIds.reduce((n, id) => n + (byId.get(id)?.expectedDelegates ?? 0), 0) };
  }
}

function buildAgenda(items: AgendaItemInput[]): AgendaItem[] {
  const seen = new Set<string>();
  return items.map((raw) => {
    const it = AgendaItemInputSchema.parse(raw);
    let id = it.id && /^[A-Za-z0-9_-]+$/.test(it.id) ? it.id : newId(6);
    if (seen.has(id)) id = newId(6);
    seen.add(id);
    return {
      id,
      title: it.title,
      speaker: it.speaker,
      role: it.role,
      plannedMinutes: it.plannedMinutes,
      documents: it.documents,
    };
  });
}

export function summarize(s: Session): SessionSummary {
  const { invitedPointIds, history: _h, agenda, ...rest } = s;
  return { ...rest, invitedPoints: invitedPointIds.length, agendaItems: agenda.length };
}
