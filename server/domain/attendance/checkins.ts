// Delegates at a point: the check-in QR code a point shows, the phone's form and its
// submission, the desk's list and voids, and the headcount the point's operator reports.
//
// A check-in is bound to what the server issued: the QR code (its session, point and a
// short window), and the phone's device cookie, whose id the form's ticket carries. Each
// phone checks in one delegate per session (a second name from it is refused: the desk
// can void a wrong one, and a phone that could swap names could also cycle through them);
// each delegate counts once however many phones scan; a point takes at most its expected
// delegates plus a margin, and the desk is alerted above the expected number.
//
// Writes a client waits for resolve only once stored; the 'store' connection fails at once
// while Redis is down, so the client gets `unavailable` and retries.
import crypto from 'node:crypto';
import type {
  CheckinEntry,
  CheckinInfo,
  CheckinQr,
  CheckinResult,
  CheckinSubmit,
  Headcount,
} from '../../contract/attendance';
import type { Point } from '../../contract/api';
import { AppError, badRequest, notFound } from '../../errors';
import { entryOf, type CheckinLedger } from './checkin-ledger';
import type { CheckinTokens } from './checkin-token';
import { checkinCap, judgeHeadcount } from './headcount-bound';
import { nameKey, type RosterStore } from './roster';
import type { AttendanceCore, PointIdentity } from './runtime';

export class Checkins {
  /** QR codes a point may ask for per minute: its page asks once per rotation, and on reconnects. */
  readonly qrPerMinute: number;

  constructor(
    private readonly core: AttendanceCore,
    private readonly tokens: CheckinTokens,
    private readonly rosters: RosterStore,
    private readonly ledger: CheckinLedger,
  ) {
    this.qrPerMinute = Math.max(10, Math.ceil(180 / core.config.checkin.rotateSeconds));
  }

  /** The form for a phone that scanned a QR code; its ticket is bound to the phone's `device`. */
  async checkinInfo(token: string, device: string): Promise<CheckinInfo> {
    const { core } = this;
    const b = this.tokens.verifyQr(token);
    const s = await core.requireOpen(b.sessionId, 'check-in');
    if (!s.invitedPointIds.includes(b.pointId)) throw new AppError('token_invalid', 'not a valid check-in code');
    const [point, rosterSize, mine] = await Promise.all([
      core.points.get(b.pointId),
      this.rosters.size(b.pointId),
      this.ledger.ofDevice(b.sessionId, device),
    ]);
    return {
      ticket: this.tokens.ticket({ ...b, device }),
      session: { title: s.title, state: s.state },
      point: { id: b.pointId, name: point?.name ?? b.pointId },
      rosterSize,
      mine: mine
        ? {
            id: mine.id,
            pointId: mine.pointId,
            name: mine.name,
            position: mine.position,
            at: mine.at,
            voided: mine.voided,
          }
        : null,
    };
  }

  /** Checks a delegate in from the phone whose device cookie carried `device`. */
  async checkinSubmit(body: CheckinSubmit, device: string | undefined): Promise<CheckinResult> {
    const { core } = this;
    const b = this.tokens.verifyTicket(body.ticket);
    if (device === undefined || device !== b.device) {
      throw new AppError('device_unknown', 'open the QR code again on this phone, then send the form from it');
    }
    const s = await core.requireOpen(b.sessionId, 'check-in');
    if (!s.invitedPointIds.includes(b.pointId)) throw new AppError('token_invalid', 'not a valid check-in code');
    const typed = body.name.replace(/\s+/g, ' ');
    const wanted = nameKey(typed);
    const entry = (await this.rosters.list(b.pointId)).find((r) => nameKey(r.name) === wanted);
    const name = entry?.name ?? typed;
    const position = entry ? entry.position : (body.position ?? '').replace(/\s+/g, ' ');
    const key = entry ? `r:${b.pointId}:${entry.id}` : `n:${b.pointId}:${wanted}`;
    const point = await core.points.get(b.pointId);
    const expected = point?.expectedDelegates ?? 0;
    const out = await this.ledger.checkin(
      b.sessionId,
      key,
      {
        id: crypto.randomBytes(9).toString('base64url'),
        pointId: b.pointId,
        name,
        position,
        rosterId: entry?.id ?? null,
        at: new Date(core.now()).toISOString(),
        voided: null,
        device,
      },
      checkinCap(expected, core.config.checkin.marginPercent),
    );
    if (out.kind === 'full') {
      await this.#alert(b, point, 'refused');
      throw new AppError('checkin_full', 'this point has as many check-ins as it expects; ask the desk');
    }
    if (out.kind === 'device-used') {
      throw new AppError(
        'device_used',
        out.record.voided
          ? "this phone's check-in was voided by the desk; ask the desk"
          : `this phone already checked in ${out.record.name}; each delegate checks in on their own phone`,
      );
    }
    if (out.kind === 'new') {
      if ((await core.ledger.checkinCount(b.sessionId, b.pointId)) > expected) await this.#alert(b, point, 'kept');
      core.changed(b);
    }
    return {
      name: out.record.name,
      position: out.record.position,
      pointName: point?.name ?? b.pointId,
      at: out.record.at,
      already: out.kind === 'already',
    };
  }

  /** A `checkin` alert for the desk: more check-ins than expected, or one refused at the cap. */
  async #alert(id: PointIdentity, point: Point | undefined, what: 'kept' | 'refused'): Promise<void> {
    const expected = point?.expectedDelegates ?? 0;
    const n = await this.core.ledger.checkinCount(id.sessionId, id.pointId);
    const note =
      what === 'kept'
        ? `${n} đại biểu điểm danh, dự kiến ${expected} · ${n} checked in, ${expected} expected`
        : `đã đủ ${n} lượt điểm danh, từ chối thêm · at the cap of ${n} check-ins (${expected} expected): refused`;
    await this.#raise(id, point, 'checkin', note);
  }

  /** An alert about the point's numbers for the desk (no sample: nothing about its media). */
  async #raise(
    id: PointIdentity,
    point: Point | undefined,
    kind: 'checkin' | 'headcount',
    note: string,
  ): Promise<void> {
    await this.core.alerts.raise({
      sessionId: id.sessionId,
      pointId: id.pointId,
      pointName: point?.name ?? id.pointId,
      kind,
      status: null,
      note,
      lastSample: null,
      at: new Date(this.core.now()),
    });
    this.core.changed(id);
  }

  /** The session's check-ins for the desk (voided ones included), of one point if given. */
  list(sessionId: string, pointId?: string): Promise<CheckinEntry[]> {
    return this.ledger.list(sessionId, pointId);
  }

  /** The desk voids a check-in: kept with who, when and why; no longer counted. Idempotent. */
  async voidCheckin(id: PointIdentity, checkinId: string, reason: string, by: string): Promise<CheckinEntry> {
    const { core } = this;
    await core.session(id.sessionId);
    const r = await this.ledger.void(id.sessionId, id.pointId, checkinId, {
      by,
      at: new Date(core.now()).toISOString(),
      reason,
    });
    if (!r) throw notFound(`check-in ${checkinId} of point ${id.pointId}`);
    if (r.now) {
      core.log.info({ ...id, checkinId, by, reason }, 'check-in voided');
      core.changed(id);
    }
    return entryOf(r.record);
  }

  async checkinQr(id: PointIdentity): Promise<CheckinQr> {
    const { core } = this;
    await core.requireOpen(id.sessionId, 'check-in');
    if ((await this.ledger.countQr(id.sessionId, id.pointId, core.now())) > this.qrPerMinute) {
      throw new AppError('rate_limited', 'too many new check-in codes for this point; wait a minute');
    }
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
      const what = judged.accepted ? 'kept' : `refused, at most ${judged.limit}`;
      await this.#raise(
        id,
        point,
        'headcount',
        `báo cáo ${count} đại biểu, dự kiến ${expected} · reported ${count} delegates, ${expected} expected (${what})`,
      );
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
