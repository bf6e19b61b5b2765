// Join links `/join/<token>`: one per invited point and session, signed, revocable and
// re-issuable one point at a time.
//
// A token is `<payload>.<mac>`, both base64url: payload = `1|<sessionId>|<pointId>|<nonce>`,
// mac = the first 16 bytes of HMAC-SHA256 over the payload text, keyed by the join-link
// key derived from the application secret (server/security/keys.ts; node:crypto: a fixed, tiny format needs no JOSE header or algorithm
// negotiation, and keeps the URL and its QR code short). The validity window is not in the
// token: it follows the session (lobby opening to end plus a grace), so rescheduling
// does not invalidate links already sent out.
//
// Keys:
//   links:<sessionId>   hash   pointId → { version, nonce, issuedAt, revokedAt } JSON.
//                              A token is good only while its nonce is the stored one and
//                              not revoked; re-issuing stores a new nonce.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import QRCode from 'qrcode';
import type { JoinInfo, JoinLink, Page, Point, Session, SipDialIn } from '../../contract/api';
import { SIP_REALM } from '../../sip/digest';
import { AppError, notFound, why } from '../../errors';
import type { PointRegistry } from '../points/registry';
import { searchKey } from '../points/validate';
import type { SessionEvents } from '../sessions/events';
import { linkWindow } from '../sessions/model';
import type { SessionService } from '../sessions/service';

export const LINK_KEYS = { bySession: (sessionId: string) => `links:${sessionId}` } as const;

const TOKEN_RE = /^[A-Za-z0-9_-]{8,400}\.[A-Za-z0-9_-]{22}$/;
const MAC_BYTES = 16;

interface LinkRecord {
  version: number;
  nonce: string;
  issuedAt: string;
  revokedAt: string | null;
}

export interface VerifiedToken {
  sessionId: string;
  pointId: string;
}

export interface JoinLinksOptions {
  redis: Redis;
  /** The join-link key (server/security/keys.ts). */
  key: Buffer;
  /** The SIP PIN key (server/security/keys.ts): a PIN is a MAC of the link under its own key. */
  sipPinKey: Buffer;
  sessions: SessionService;
  points: PointRegistry;
  events: SessionEvents;
  logger: Logger;
  /** Base URL links are built on (PUBLIC_URL or the listening address). */
  baseUrl: () => string;
  /** The SIP gateway's UDP port (SIP_PORT); undefined: no gateway. */
  sipPort?: number | undefined;
  now?: () => Date;
}

const tokenInvalid = () => new AppError('token_invalid', 'this link is not valid: check that it was copied whole');

export class JoinLinks {
  readonly #key: Buffer;
  readonly #sipPinKey: Buffer;
  readonly #log: Logger;
  readonly #now: () => Date;

  constructor(private readonly o: JoinLinksOptions) {
    // A key of its own, so a join token can never pass for a cookie signature or the reverse.
    this.#key = o.key;
    this.#sipPinKey = o.sipPinKey;
    this.#log = o.logger.child({ component: 'links' });
    this.#now = o.now ?? (() => new Date());
  }

  // ── tokens ─────────────────────────────────────────────────────────────────────────

  #mac(payload: string): Buffer {
    return createHmac('sha256', this.#key).update(payload).digest().subarray(0, MAC_BYTES);
  }

  sign(sessionId: string, pointId: string, nonce: string): string {
    const payload = Buffer.from(`1|${sessionId}|${pointId}|${nonce}`).toString('base64url');
    return `${payload}.${this.#mac(payload).toString('base64url')}`;
  }

  /** Checks the signature only: who the token claims to be, if we made it. */
  #decode(token: string): { sessionId: string; pointId: string; nonce: string } {
    if (typeof token !== 'string' || !TOKEN_RE.test(token)) throw tokenInvalid();
    const [payload, mac] = token.split('.') as [string, string];
    const given = Buffer.from(mac, 'base64url');
    const expected = this.#mac(payload);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw tokenInvalid();
    const parts = Buffer.from(payload, 'base64url').toString('utf8').split('|');
    if (parts.length !== 4 || parts[0] !== '1' || parts.some((p) => p === '')) throw tokenInvalid();
    return { sessionId: parts[1]!, pointId: parts[2]!, nonce: parts[3]! };
  }

  /**
   * The check every entry point with a join token makes (the join page's API, the point's
   * socket). Resolves with the session and point the token is bound to; throws AppError
   * `token_invalid` (forged, damaged), `token_revoked` (revoked, re-issued, point no
   * longer invited, session cancelled or deleted), `token_expired` (after the session's
   * end and grace) or `not_open` (before the lobby opens; `details.opensAt`).
   */
  async verifyJoinToken(token: string): Promise<VerifiedToken> {
    return (await this.#verify(token)).claims;
  }

  async #verify(
    token: string,
    opts: { beforeOpen?: boolean } = {},
  ): Promise<{ claims: VerifiedToken; session: Session }> {
    const { sessionId, pointId, nonce } = this.#decode(token);
    const [session, raw] = await Promise.all([
      this.o.sessions.get(sessionId),
      this.o.redis.hget(LINK_KEYS.bySession(sessionId), pointId),
    ]);
    if (!session) throw new AppError('token_revoked', 'this briefing no longer exists', why('session_cancelled'));
    if (session.state === 'cancelled')
      throw new AppError('token_revoked', 'this briefing was cancelled', why('session_cancelled'));
    if (!session.invitedPointIds.includes(pointId)) {
      throw new AppError('token_revoked', 'this point is no longer invited to the briefing', why('point_uninvited'));
    }
    const rec = raw ? (JSON.parse(raw) as LinkRecord) : undefined;
    if (!rec || rec.nonce !== nonce) {
      throw new AppError(
        'token_revoked',
        'this link was replaced by a newer one: ask the organisers for it',
        why('link_replaced'),
      );
    }
    if (rec.revokedAt) throw new AppError('token_revoked', 'this link was revoked by the organisers');
    const now = this.#now().getTime();
    const window = linkWindow(session);
    const opened = session.state === 'lobby' || session.state === 'live' || session.state === 'ended';
    if (!opts.beforeOpen && !opened && (session.state === 'draft' || now < window.from.getTime())) {
      throw new AppError('not_open', 'the briefing is not open yet', {
        details: { opensAt: session.lobbyOpensAt, scheduledStart: session.scheduledStart },
      });
    }
    if (now > window.until.getTime())
      throw new AppError('token_expired', 'this briefing is over; the link has expired');
    return { claims: { sessionId, pointId }, session };
  }

  /**
   * The point's PIN for a room system in this session (server/sip/): 12 digits from an
   * HMAC of its link token under the join-link key, so nothing new is stored, it changes
   * with each session and with a re-issued link, and it works only while the link would
   * (same checks: revoked, replaced, not open, expired).
   */
  async sipPin(sessionId: string, pointId: string): Promise<string> {
    const raw = await this.o.redis.hget(LINK_KEYS.bySession(sessionId), pointId);
    if (!raw) throw new AppError('token_revoked', 'this point has no link in this briefing yet');
    const token = this.sign(sessionId, pointId, (JSON.parse(raw) as LinkRecord).nonce);
    await this.#verify(token);
    return sipPinOf(this.#sipPinKey, token);
  }

  /** How the point's room system dials in (no window check: the host may print it before the lobby opens). */
  async sipDialIn(sessionId: string, pointId: string): Promise<SipDialIn> {
    const link = await this.one(sessionId, pointId);
    const host = new URL(this.o.baseUrl()).hostname;
    const port = this.o.sipPort && this.o.sipPort !== 5060 ? `:${this.o.sipPort}` : '';
    const pin = sipPinOf(this.#sipPinKey, link.token);
    return {
      pointId,
      uri: `sip:${pointId}@${host}${port}`,
      uriWithPin: `sip:${pointId}*${pin}@${host}${port}`,
      username: pointId,
      realm: SIP_REALM,
      pin,
      enabled: this.o.sipPort !== undefined,
    };
  }

  /**
   * What the join page shows: its session and its point. Answers before the lobby opens
   * too, so the page can show the title, the time and a countdown; the media and the
   * point's socket open only from the lobby (verifyJoinToken).
   */
  async joinInfo(token: string): Promise<JoinInfo> {
    const { claims, session } = await this.#verify(token, { beforeOpen: true });
    const p = await this.o.points.get(claims.pointId);
    if (!p) throw new AppError('token_revoked', 'this point was removed from the registry', why('point_uninvited'));
    return {
      session: {
        id: session.id,
        title: session.title,
        state: session.state,
        scheduledStart: session.scheduledStart,
        lobbyOpensAt: session.lobbyOpensAt,
        plannedEnd: session.plannedEnd,
        agenda: session.agenda,
      },
      point: {
        id: p.id,
        code: p.code,
        name: p.name,
        level: p.level,
        district: p.district,
        expectedDelegates: p.expectedDelegates,
      },
    };
  }

  // ── issuing, listing, revoking ─────────────────────────────────────────────────────

  /** Issues the missing links of the invited points (existing ones are kept). */
  async #ensureIssued(session: Session): Promise<Map<string, LinkRecord>> {
    const key = LINK_KEYS.bySession(session.id);
    const stored = await this.o.redis.hgetall(key);
    const missing = session.invitedPointIds.filter((id) => !(id in stored));
    if (missing.length > 0) {
      const issuedAt = this.#now().toISOString();
      const pipe = this.o.redis.pipeline();
      for (const id of missing) {
        const rec: LinkRecord = { version: 1, nonce: randomBytes(8).toString('base64url'), issuedAt, revokedAt: null };
        pipe.hsetnx(key, id, JSON.stringify(rec));
      }
      await pipe.exec();
      Object.assign(stored, await this.o.redis.hgetall(key));
    }
    return new Map(Object.entries(stored).map(([id, json]) => [id, JSON.parse(json) as LinkRecord]));
  }

  async list(
    sessionId: string,
    q: { limit: number; offset: number; q?: string | undefined; district?: string | undefined },
  ): Promise<Page<JoinLink>> {
    const session = await this.o.sessions.require(sessionId);
    const [records, snap] = await Promise.all([this.#ensureIssued(session), this.o.points.snapshot()]);
    const needle = q.q ? searchKey(q.q) : undefined;
    const rows = session.invitedPointIds
      .map((id) => ({ id, point: snap.points.get(id) }))
      .filter(
        ({ id, point }) =>
          (!q.district || point?.district === q.district) &&
          (!needle || searchKey(`${id} ${point?.name ?? ''} ${point?.contactName ?? ''}`).includes(needle)),
      );
    const window = linkWindow(session);
    const items = rows
      .slice(q.offset, q.offset + q.limit)
      .map(({ id, point }) => this.#row(session, id, point, records.get(id)!, window));
    return { items, total: rows.length, limit: q.limit, offset: q.offset };
  }

  async all(sessionId: string): Promise<{ session: Session; links: JoinLink[] }> {
    const session = await this.o.sessions.require(sessionId);
    const page = await this.list(sessionId, { limit: Number.MAX_SAFE_INTEGER, offset: 0 });
    return { session, links: page.items };
  }

  async one(sessionId: string, pointId: string): Promise<JoinLink> {
    const session = await this.o.sessions.require(sessionId);
    if (!session.invitedPointIds.includes(pointId)) throw notFound(`link of point ${pointId} in this session`);
    const records = await this.#ensureIssued(session);
    return this.#row(session, pointId, await this.o.points.get(pointId), records.get(pointId)!, linkWindow(session));
  }

  /** Revokes the point's link (reissue: and gives it a new one at once). */
  async revoke(sessionId: string, pointId: string, opts: { reissue: boolean; by: string }): Promise<JoinLink> {
    const session = await this.o.sessions.require(sessionId);
    if (!session.invitedPointIds.includes(pointId)) throw notFound(`link of point ${pointId} in this session`);
    const records = await this.#ensureIssued(session);
    const cur = records.get(pointId)!;
    const now = this.#now().toISOString();
    const next: LinkRecord = opts.reissue
      ? { version: cur.version + 1, nonce: randomBytes(8).toString('base64url'), issuedAt: now, revokedAt: null }
      : { ...cur, revokedAt: cur.revokedAt ?? now };
    await this.o.redis.hset(LINK_KEYS.bySession(sessionId), pointId, JSON.stringify(next));
    this.#log.info(
      { sessionId, pointId, by: opts.by, version: next.version },
      opts.reissue ? 'link re-issued' : 'link revoked',
    );
    this.o.events.emit('linkRevoked', { sessionId, pointId, reissued: opts.reissue });
    return this.#row(session, pointId, await this.o.points.get(pointId), next, linkWindow(session));
  }

  #row(
    session: Session,
    pointId: string,
    point: Point | undefined,
    rec: LinkRecord,
    window: { from: Date; until: Date },
  ): JoinLink {
    const token = this.sign(session.id, pointId, rec.nonce);
    return {
      pointId,
      code: point?.code ?? pointId,
      name: point?.name ?? '(removed from the registry)',
      level: point?.level ?? null,
      district: point?.district ?? null,
      contactName: point?.contactName ?? '',
      contactPhone: point?.contactPhone ?? '',
      url: `${this.o.baseUrl()}/join/${token}`,
      token,
      version: rec.version,
      issuedAt: rec.issuedAt,
      revokedAt: rec.revokedAt,
      validFrom: window.from.toISOString(),
      validUntil: window.until.toISOString(),
    };
  }
}

function sipPinOf(key: Buffer, token: string): string {
  const n = createHmac('sha256', key).update(`sip-pin|${token}`).digest().readBigUInt64BE(0);
  return (n % 10n ** 12n).toString().padStart(12, '0');
}

/** A QR code of the link, as SVG text. */
export function qrSvg(url: string): Promise<string> {
  return QRCode.toString(url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}

export async function qrDataUrl(url: string): Promise<string> {
  return `data:image/svg+xml;base64,${Buffer.from(await qrSvg(url)).toString('base64')}`;
}
