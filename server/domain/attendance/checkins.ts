// Delegates at a point: the check-in QR code a point shows, the phone's form and its
// submission, and the headcount the point's operator reports.
//
// Writes a client waits for resolve only once stored; the 'store' connection fails at once
// while Redis is down, so the client gets `unavailable` and retries.
import type { CheckinInfo, CheckinQr, CheckinResult, CheckinSubmit, Headcount } from '../../contract/attendance';
import { AppError, badRequest } from '../../errors';
import { searchKey } from '../points/validate';
import type { CheckinTokens } from './checkin-token';
import { judgeHeadcount } from './headcount-bound';
import type { RosterStore } from './roster';
import type { AttendanceCore, PointIdentity } from './runtime';

export class Checkins {
  constructor(
    private readonly core: AttendanceCore,
    private readonly tokens: CheckinTokens,
    private readonly rosters: RosterStore,
  ) {}

  async checkinInfo(token: string): Promise<CheckinInfo> {
    const { core } = this;
    const b = this.tokens.verifyQr(token);
    const s = await core.requireOpen(b.sessionId, 'check-in');
    if (!s.invitedPointIds.includes(b.pointId)) throw new AppError('token_invalid', 'not a valid check-in code');
    const point = await core.points.get(b.pointId);
    return {
      ticket: this.tokens.ticket(b),
      session: { title: s.title, state: s.state },
      point: { id: b.pointId, name: point?.name ?? b.pointId },
      roster: await this.rosters.list(b.pointId),
    };
  }

  async checkinSubmit(body: CheckinSubmit): Promise<CheckinResult> {
    const { core } = this;
    const b = this.tokens.verifyTicket(body.ticket);
    const s = await core.requireOpen(b.sessionId, 'check-in');
    if (!s.invitedPointIds.includes(b.pointId)) throw new AppError('token_invalid', 'not a valid check-in code');
    let name: string;
    let position: string;
    let key: string;
    if (body.rosterId !== undefined) {
      const entry = await this.rosters.get(b.pointId, body.rosterId);
      if (!entry) throw new AppError('bad_request', 'this name is not on the list; type it instead');
      ({ name, position } = entry);
      key = `r:${b.pointId}:${entry.id}`;
    } else {
      name = body.name!.replace(/\s+/g, ' ');
      position = (body.position ?? '').replace(/\s+/g, ' ');
      // Same name at the same point is the same delegate, however it is accented or cased.
      key = `n:${b.pointId}:${searchKey(name)
        .replace(/[^a-z0-9]+/g, ' ')
        .trim()}`;
    }
    const point = await core.points.get(b.pointId);
    const { already, record } = await core.ledger.checkin(b.sessionId, key, body.deviceId, {
      pointId: b.pointId,
      name,
      position,
      rosterId: body.rosterId ?? null,
      at: new Date(core.now()).toISOString(),
    });
    if (!already) core.changed(b);
    return {
      name: record.name,
      position: record.position,
      pointName: point?.name ?? b.pointId,
      at: record.at,
      already,
    };
  }

  async checkinQr(id: PointIdentity): Promise<CheckinQr> {
    const { core } = this;
    await core.requireOpen(id.sessionId, 'check-in');
    const { token, rotateAt } = this.tokens.issue(id);
    return {
      token,
      url: `${core.o.publicUrl()}/checkin/${token}`,
      rotateAt: rotateAt.toISOString(),
      checkedIn: await core.ledger.checkinCount(id.sessionId, id.pointId),
    };
  }

  async mine(id: PointIdentity): Promise<{ headcount: Headcount | null; checkedIn: number }> {
    const [headcount, checkedIn] = await Promise.all([
      this.core.ledger.headcount(id.sessionId, id.pointId),
      this.core.ledger.checkinCount(id.sessionId, id.pointId),
    ]);
    return { headcount, checkedIn };
  }

  async reportHeadcount(id: PointIdentity, count: number, by: string | undefined): Promise<Headcount> {
    const { core } = this;
    await core.requireOpen(id.sessionId, 'the headcount');
    const point = await core.points.get(id.pointId);
    const expected = point?.expectedDelegates ?? 0;
    const judged = judgeHeadcount(count, expected);
    if (judged.outlier) {
      const at = new Date(core.now());
      const what = judged.accepted ? 'kept' : `refused, at most ${judged.limit}`;
      await core.alerts.raise({
        sessionId: id.sessionId,
        pointId: id.pointId,
        pointName: point?.name ?? id.pointId,
        kind: 'headcount',
        status: null,
        note: `báo cáo ${count} đại biểu, dự kiến ${expected} · reported ${count} delegates, ${expected} expected (${what})`,
        lastSample: null,
        at,
      });
      core.changed(id);
    }
    if (!judged.accepted) {
      throw badRequest(
        `a headcount of ${count} is not plausible here: at most ${judged.limit} for ${expected} expected delegates`,
        { limit: judged.limit, expected },
      );
    }
    const hc = await core.ledger.reportHeadcount(
      id.sessionId,
      id.pointId,
      count,
      by || 'kỹ thuật viên điểm cầu · point operator',
      new Date(core.now()),
    );
    core.changed(id);
    return hc;
  }
}
