// The control plane's services, built once around the store connection and handed to the
// HTTP API and the realtime layer: the point registry, sessions and their jobs, join
// links, accounts and logins, and the session events.
//
// Other modules use:
//   control.links.verifyJoinToken(token)      → Promise<{ sessionId, pointId }> (AppError token_*/not_open)
//   control.auth.authenticateCookie(header)   → Promise<AuthUser | undefined>
//   control.events.on('stateChanged', ...)     (SessionEvents, server/domain/sessions/events.ts)
//   control.points.get(id) / .all() / .list(q) (PointRegistry)
//   control.sessions.get(id) / .require(id)    (SessionService)
//   control.timeline.record(sessionId, entry)  (TimelineRecorder: the record of a briefing)
//   control.hallMedia.requireToStart(session)  (HallMedia: AppError no_hall_media unless the hall publishes)
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Auth } from '../auth/auth';
import type { Config } from '../config';
import { AccountService } from '../domain/accounts/accounts';
import { JoinLinks } from '../domain/links/join-links';
import { PointRegistry } from '../domain/points/registry';
import { AgendaDocuments } from '../domain/sessions/documents';
import { SessionEvents } from '../domain/sessions/events';
import { HallMedia } from '../domain/sessions/hall-media';
import { SessionService } from '../domain/sessions/service';
import { SessionStore } from '../domain/sessions/store';
import { TimelineRecorder } from '../domain/timeline/recorder';
import { TimelineStore } from '../domain/timeline/store';
import { SessionJobs } from '../jobs/session-jobs';
import { resolveAppSecret } from '../security/app-secret';
import { SecretKeys } from '../security/keys';

export const SHIPPED_POINTS_CSV = path.resolve(__dirname, '..', 'data', 'hatinh-points.csv');
/** Every server process re-checks that open sessions have their jobs this often. */
const RECONCILE_EVERY_MS = 5 * 60_000;

export interface ControlPlaneOptions {
  config: Config;
  logger: Logger;
  /** The 'store' connection (fails fast while Redis is down). */
  redis: Redis;
  /** For BullMQ's own connections. */
  redisUrl: string;
  /** Load server/data/hatinh-points.csv when the registry has never been filled (default true). */
  seedPoints?: boolean;
  /** Links are built on this: PUBLIC_URL, else the address the server listens on (net/public-url.ts). */
  baseUrl?: () => string;
}

export class ControlPlane {
  readonly events = new SessionEvents();
  readonly points: PointRegistry;
  readonly sessions: SessionService;
  readonly links: JoinLinks;
  readonly accounts: AccountService;
  /** Files attached to agenda items, under DATA_DIR/documents. */
  readonly documents: AgendaDocuments;
  readonly auth: Auth;
  readonly jobs: SessionJobs;
  /** Whether the hall publishes media into a session, on any node: the condition to go live. */
  readonly hallMedia: HallMedia;
  /** State transitions recorded as they happen; the live session records the rest. */
  readonly timeline: TimelineRecorder;
  /** Every signing key of this process, one per purpose (server/security/keys.ts). */
  readonly keys: SecretKeys;
  /** The 'store' connection the services use. */
  readonly redis: Redis;
  /** The briefing's time zone (BRIEFING_TZ): times in files and on the pages. */
  readonly timeZone: string;
  #reconcileTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  readonly #log: Logger;
  /** The server's logger, for the routes built on this control plane. */
  readonly logger: Logger;

  private constructor(o: ControlPlaneOptions, keys: SecretKeys) {
    const { config, logger, redis } = o;
    this.keys = keys;
    this.redis = redis;
    this.timeZone = config.timeZone;
    this.#log = logger.child({ component: 'control-plane' });
    this.logger = logger;
    const baseUrl = o.baseUrl ?? (() => config.publicUrl ?? `http://localhost:${config.port}`);
    this.points = new PointRegistry(redis, logger);
    this.hallMedia = new HallMedia(redis, { logger });
    this.jobs = new SessionJobs({ redisUrl: o.redisUrl, logger });
    this.sessions = new SessionService({
      store: new SessionStore(redis),
      points: this.points,
      events: this.events,
      scheduler: this.jobs,
      logger,
      overrunAfterMs: config.sessions.overrunAfterMs,
    });
    this.links = new JoinLinks({
      redis,
      key: keys.for('join-link'),
      sipPinKey: keys.for('sip-pin'),
      sessions: this.sessions,
      points: this.points,
      events: this.events,
      logger,
      baseUrl,
      sipPort: config.sip?.port,
    });
    this.timeline = new TimelineRecorder(new TimelineStore(redis, logger), this.events, logger);
    this.accounts = new AccountService(redis, logger);
    this.documents = new AgendaDocuments({ redis, dir: path.join(config.dataDir, 'documents') });
    // An item taken off the agenda takes its documents with it.
    this.events.on('agendaChanged', ({ sessionId, agenda }) => {
      this.documents
        .keepItems(
          sessionId,
          agenda.map((a) => a.id),
        )
        .catch((err) => this.#log.warn({ err, sessionId }, 'dropping the documents of removed items failed'));
    });
    this.auth = new Auth({
      redis,
      accounts: this.accounts,
      cookieKey: keys.for('login-cookie'),
      secureCookies: (config.publicUrl ?? '').startsWith('https:'),
      logger,
    });
  }

  /**
   * Finds the secret (APP_SECRET, else the one kept in DATA_DIR, else a new one), seeds
   * what a first start needs, starts the job worker and re-queues missing jobs.
   */
  static async create(o: ControlPlaneOptions): Promise<ControlPlane> {
    const secret = await resolveAppSecret({
      configured: o.config.appSecret,
      dataDir: o.config.dataDir,
      production: o.config.nodeEnv === 'production',
      logger: o.logger,
    });
    const cp = new ControlPlane(o, new SecretKeys(secret));
    try {
      if (o.seedPoints !== false) await cp.points.seedIfEmpty(SHIPPED_POINTS_CSV);
      await cp.accounts.ensureInitialAdmin(o.config.initialAdmin);
      cp.jobs.start((kind, sessionId) => cp.sessions.runJob(kind, sessionId));
      const open = await cp.sessions.reconcileJobs();
      if (open > 0) cp.#log.info({ sessions: open }, 'checked the jobs of open sessions');
      cp.#reconcileTimer = setInterval(() => {
        cp.sessions.reconcileJobs().catch((err) => cp.#log.warn({ err }, 'job reconcile failed'));
      }, RECONCILE_EVERY_MS);
      cp.#reconcileTimer.unref();
    } catch (err) {
      await cp.close();
      throw err;
    }
    return cp;
  }

  /** Stops the job worker and queue (they finish a running job first). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#reconcileTimer);
      this.hallMedia.stop();
      await this.jobs.close();
      await this.timeline.close();
    })();
    return this.#closing;
  }
}
