// Per-source admission for SIP requests: a token bucket per IP address. Within its rate a
// source is served; past it, its next requests are told 503 with Retry-After; a source that
// keeps sending past that (a flood, a scanner) is no longer answered at all, so the gateway
// never amplifies traffic towards a forged address. The table is bounded: the least
// recently seen source is forgotten first.

export interface SourceLimitOptions {
  /** Tokens per minute per source. */
  perMinute: number;
  /** Bucket size: requests a source may send at once. */
  burst: number;
  /** Refusals (503) a source gets per window before it is dropped silently. */
  refusalsBeforeDrop?: number;
  /** Sources remembered at most. */
  maxSources?: number;
  now?: () => number;
}

interface Bucket {
  tokens: number;
  at: number;
  /** 503s sent since the bucket last had a token. */
  refused: number;
}

export type Admission = { kind: 'serve' } | { kind: 'refuse'; retryAfterSeconds: number } | { kind: 'drop' };

export class SourceLimit {
  readonly #o: Required<SourceLimitOptions>;
  readonly #buckets = new Map<string, Bucket>();

  constructor(o: SourceLimitOptions) {
    this.#o = { refusalsBeforeDrop: 5, maxSources: 20_000, now: Date.now, ...o };
  }

  admit(source: string, cost = 1): Admission {
    const now = this.#o.now();
    const rate = this.#o.perMinute / 60_000;
    let b = this.#buckets.get(source);
    if (b) this.#buckets.delete(source);
    else {
      b = { tokens: this.#o.burst, at: now, refused: 0 };
      if (this.#buckets.size >= this.#o.maxSources) this.#buckets.delete(this.#buckets.keys().next().value!);
    }
    this.#buckets.set(source, b); // most recently seen last
    b.tokens = Math.min(this.#o.burst, b.tokens + (now - b.at) * rate);
    b.at = now;
    if (b.tokens >= cost) {
      b.tokens -= cost;
      b.refused = 0;
      return { kind: 'serve' };
    }
    b.refused += 1;
    if (b.refused > this.#o.refusalsBeforeDrop) return { kind: 'drop' };
    return { kind: 'refuse', retryAfterSeconds: Math.max(1, Math.ceil((cost - b.tokens) / rate / 1000)) };
  }

  get size(): number {
    return this.#buckets.size;
  }
}
