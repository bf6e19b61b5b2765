import type { Point, Session, SessionState } from '../../server/contract/api';
import { SESSION_STATES } from '../../server/contract/api';
import {
  LINK_GRACE_MS,
  canTransition,
  linkWindow,
  plannedJobs,
  resolveInvite,
  timeProblems,
} from '../../server/domain/sessions/model';

const legal: [SessionState, SessionState][] = [
  ['draft', 'scheduled'],
  ['draft', 'cancelled'],
  ['scheduled', 'lobby'],
  ['scheduled', 'live'],
  ['scheduled', 'cancelled'],
  ['lobby', 'live'],
  ['lobby', 'cancelled'],
  ['live', 'ended'],
];

test('exactly the legal transitions are allowed', () => {
  for (const from of SESSION_STATES) {
    for (const to of SESSION_STATES) {
      const expected = legal.some(([f, t]) => f === from && t === to);
      expect([from, to, canTransition(from, to)]).toEqual([from, to, expected]);
    }
  }
});

function session(over: Partial<Session> = {}): Session {
  return {
    id: 's1',
    title: 'Hội nghị',
    description: '',
    state: 'scheduled',
    scheduledStart: '2026-12-01T01:00:00.000Z',
    lobbyOpensAt: '2026-12-01T00:00:00.000Z',
    plannedEnd: '2026-12-01T04:00:00.000Z',
    agenda: [],
    invite: { mode: 'all' },
    invitedPointIds: [],
    invitedDelegates: 0,
    startedAt: null,
    endedAt: null,
    startReachedAt: null,
    overrunAt: null,
    history: [],
    createdBy: 'host',
    createdAt: '2026-11-28T00:00:00.000Z',
    updatedAt: '2026-11-28T00:00:00.000Z',
    rev: 1,
    ...over,
  };
}

describe('planned jobs follow the state and times', () => {
  const overrun = 15 * 60_000;
  const kinds = (s: Session) => plannedJobs(s, overrun).map((j) => [j.kind, j.at.toISOString()]);

  test('scheduled: lobby, start warning, overrun', () => {
    expect(kinds(session())).toEqual([
      ['open-lobby', '2026-12-01T00:00:00.000Z'],
      ['start-reached', '2026-12-01T01:00:00.000Z'],
      ['overrun', '2026-12-01T04:15:00.000Z'],
    ]);
  });
  test('lobby: no lobby job; live: only overrun; after a flag, nothing more', () => {
    expect(kinds(session({ state: 'lobby' })).map((k) => k[0])).toEqual(['start-reached', 'overrun']);
    expect(kinds(session({ state: 'live' })).map((k) => k[0])).toEqual(['overrun']);
    expect(kinds(session({ state: 'live', overrunAt: '2026-12-01T04:20:00Z' }))).toEqual([]);
  });
  test.each(['draft', 'ended', 'cancelled'] as const)('%s: no jobs', (state) => {
    expect(kinds(session({ state }))).toEqual([]);
  });
});

test('time consistency', () => {
  const t = {
    scheduledStart: '2026-12-01T01:00:00Z',
    lobbyOpensAt: '2026-12-01T00:00:00Z',
    plannedEnd: '2026-12-01T04:00:00Z',
  };
  expect(timeProblems(t)).toEqual([]);
  expect(timeProblems({ ...t, lobbyOpensAt: '2026-12-01T02:00:00Z' }).map((p) => p.path)).toEqual(['lobbyOpensAt']);
  expect(timeProblems({ ...t, plannedEnd: '2026-12-01T00:30:00Z' }).map((p) => p.path)).toEqual(['plannedEnd']);
  expect(timeProblems({ ...t, plannedEnd: '2026-12-03T00:30:00Z' }).map((p) => p.path)).toEqual(['plannedEnd']);
});

describe('invitations resolve to point ids', () => {
  const p = (id: string, level: Point['level'], district: string | null): Point => ({
    id,
    code: id,
    name: id,
    level,
    parent: null,
    district,
    expectedDelegates: 1,
    contactName: '',
    contactPhone: '',
    position: 0,
    updatedAt: '',
  });
  const registry = [
    p('HT', 'province', null),
    p('HT-CX', 'district', 'HT-CX'),
    p('HT-CX-001', 'commune', 'HT-CX'),
    p('HT-CL', 'district', 'HT-CL'),
    p('HT-CL-001', 'commune', 'HT-CL'),
    p('HT-AG-01', 'agency', null),
  ];
  test('all, by district, by level, a list', () => {
    expect(resolveInvite({ mode: 'all' }, registry).pointIds).toHaveLength(6);
    expect(resolveInvite({ mode: 'districts', districts: ['HT-CX'] }, registry).pointIds).toEqual([
      'HT-CX',
      'HT-CX-001',
    ]);
    expect(resolveInvite({ mode: 'levels', levels: ['province', 'agency'] }, registry).pointIds).toEqual([
      'HT',
      'HT-AG-01',
    ]);
    expect(resolveInvite({ mode: 'points', pointIds: ['HT-CL-001', 'HT'] }, registry).pointIds).toEqual([
      'HT',
      'HT-CL-001',
    ]);
  });
  test('unknown districts and points are returned apart', () => {
    expect(resolveInvite({ mode: 'districts', districts: ['HT-ZZ'] }, registry).unknown).toEqual(['HT-ZZ']);
    expect(resolveInvite({ mode: 'points', pointIds: ['HT', 'NOPE'] }, registry).unknown).toEqual(['NOPE']);
  });
});

test('links are valid from lobby opening to end plus grace', () => {
  const s = session({ state: 'ended', endedAt: '2026-12-01T03:50:00.000Z' });
  const w = linkWindow(s);
  expect(w.from.toISOString()).toBe(s.lobbyOpensAt);
  expect(w.until.getTime()).toBe(Date.parse(s.endedAt!) + LINK_GRACE_MS);
  // Not ended yet: open until well after the planned end, so an overrunning session keeps its points.
  expect(linkWindow(session({ state: 'live' })).until.getTime()).toBeGreaterThan(Date.parse(s.plannedEnd));
});
