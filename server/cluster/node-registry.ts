// Every node of a cluster registers in Redis and renews its entry on a heartbeat; an
// entry nobody renews expires, and that is how the others learn a node died. Entries are
// sealed (sealed.ts): one that does not verify, or whose heartbeat is long past (an old
// entry written back), is not a node.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { NodeInfoSchema, type NodeInfo, type NodeRole } from '../contract/cluster';
import { clusterKeys } from './keys';
import type { RecordSeal } from './sealed';

/** An entry's heartbeat older than this (by the reader's clock) is a replay, whatever Redis's expiry says. */
const STALE_AFTER_MS = 60_000;

export interface NodeRegistryOptions {
  redis: Redis;
  logger: Logger;
  self: { id: string; role: NodeRole; url: () => string; internalUrl: () => string; region: string | undefined };
  heartbeatMs: number;
  ttlMs: number;
  /** Signs this node's entry and checks the others' (the `cluster-state` key). */
  seal: RecordSeal;
}

/** This node's current load and points, sampled at each heartbeat. */
export type NodeSample = () => Promise<Pick<NodeInfo, 'load' | 'sessions' | 'feeds' | 'receiving'>>;

export class NodeRegistry {
  readonly #o: NodeRegistryOptions;
  readonly #log: Logger;
  readonly #startedAt = new Date().toISOString();
  #timer: NodeJS.Timeout | undefined;
  #sample: NodeSample | undefined;
  #beating: Promise<void> | undefined;
  #stopped = false;
  /** Ids of refused entries already logged (one line each, not one per read). */
  readonly #refused = new Set<string>();

  constructor(o: NodeRegistryOptions) {
    this.#o = o;
    this.#log = o.logger.child({ component: 'node-registry' });
  }

  get selfId(): string {
    return this.#o.self.id;
  }

  /** This run's start, in its entry: tells a node restarted under the same id from its past run. */
  get startedAt(): string {
    return this.#startedAt;
  }

  /** Joins: the first heartbeat now (once this node listens, so its URL is known), then on a timer. */
  async start(sample: NodeSample): Promise<void> {
    this.#sample = sample;
    await this.beat();
    this.#timer = setInterval(() => void this.beat(), this.#o.heartbeatMs);
    this.#timer.unref();
  }

  /** Writes this node's entry now (also on a timer). */
  beat(): Promise<void> {
    const sample = this.#sample;
    if (this.#stopped || !sample) return Promise.resolve();
    this.#beating ??= (async () => {
      try {
        const { self } = this.#o;
        const info: NodeInfo = {
          id: self.id,
          role: self.role,
          url: self.url(),
          internalUrl: self.internalUrl(),
          region: self.region ?? null,
          startedAt: this.#startedAt,
          heartbeatAt: new Date().toISOString(),
          ...(await sample()),
        };
        if (this.#stopped) return;
        await this.#o.redis
          .multi()
          .set(clusterKeys.node(self.id), this.#o.seal.seal(clusterKeys.node(self.id), info), 'PX', this.#o.ttlMs)
          .sadd(clusterKeys.nodes, self.id)
          .exec();
      } catch (err) {
        this.#log.warn({ err }, 'heartbeat failed');
      } finally {
        this.#beating = undefined;
      }
    })();
    return this.#beating;
  }

  /** The live nodes, pruning the set of ids whose entry expired. */
  async list(): Promise<NodeInfo[]> {
    const ids = await this.#o.redis.smembers(clusterKeys.nodes);
    if (ids.length === 0) return [];
    const raw = await this.#o.redis.mget(ids.map((id) => clusterKeys.node(id)));
    const out: NodeInfo[] = [];
    const gone: string[] = [];
    raw.forEach((r, i) => {
      if (r === null) return void gone.push(ids[i]!);
      const info = this.#open(ids[i]!, r);
      if (info) out.push(info);
    });
    if (gone.length) await this.#o.redis.srem(clusterKeys.nodes, ...gone);
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  async get(id: string): Promise<NodeInfo | undefined> {
    const r = await this.#o.redis.get(clusterKeys.node(id));
    return r ? this.#open(id, r) : undefined;
  }

  #open(id: string, raw: string): NodeInfo | undefined {
    const parsed = NodeInfoSchema.safeParse(this.#o.seal.open(clusterKeys.node(id), raw));
    const why = !parsed.success
      ? 'not signed by this cluster'
      : parsed.data.id !== id
        ? 'names another node'
        : Date.now() - Date.parse(parsed.data.heartbeatAt) > STALE_AFTER_MS
          ? 'an old entry written back'
          : undefined;
    if (!why) {
      this.#refused.delete(id);
      return parsed.data;
    }
    if (!this.#refused.has(id)) {
      if (this.#refused.size > 1000) this.#refused.clear();
      this.#refused.add(id);
      this.#log.warn({ node: id, why }, 'registry entry refused');
    }
    return undefined;
  }

  /** Leaves the cluster at once (a clean stop), so points move without waiting for the TTL. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#beating?.catch(() => undefined);
    await this.#o.redis
      .multi()
      .del(clusterKeys.node(this.#o.self.id))
      .srem(clusterKeys.nodes, this.#o.self.id)
      .exec()
      .catch(() => undefined);
  }
}
