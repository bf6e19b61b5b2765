// Lines of one kind held to a few per window. Under overload a media worker warns once per
// packet (thousands a second, all alike but for their numbers); written out, they would
// take the control server's event loop and bury every other line of the log. The first
// `perWindow` lines of a kind in each window pass as they are; the rest are counted, and
// `flush` gives, once the window is over, how many of each kind were held and the last one.
// Pure logic with an injected clock, so the tests can drive it.

export interface HeldLines {
  /** The kind: what `kindOf` made of the lines. */
  kind: string;
  /** Lines of that kind held back in the window. */
  held: number;
  /** The last one held, as it was. */
  last: string;
}

export interface RepeatLimiterOptions {
  /** Lines of one kind passed per window. */
  perWindow: number;
  windowMs: number;
  /** Kinds tracked at once; lines of further kinds share one allowance. */
  maxKinds?: number;
  now?: () => number;
}

interface KindState {
  since: number;
  passed: number;
  held: number;
  last: string;
}

/** A line's kind: its text with identifiers and numbers taken out. */
export function kindOf(line: string): string {
  return line
    .replace(/[0-9a-f]{8}(?:-[0-9a-f]{4}){3}-[0-9a-f]{12}/gi, '<id>')
    .replace(/\d+(?:\.\d+)?/g, '#')
    .slice(0, 200);
}

const OTHER_KINDS = '<other kinds>';

export class RepeatLimiter {
  readonly #o: Required<RepeatLimiterOptions>;
  readonly #kinds = new Map<string, KindState>();

  constructor(o: RepeatLimiterOptions) {
    this.#o = { maxKinds: 1000, now: () => performance.now(), ...o };
  }

  /** Whether this line goes out now; a line held back is counted against its kind. */
  admit(kind: string, line: string): boolean {
    const now = this.#o.now();
    const key = this.#kinds.has(kind) || this.#kinds.size < this.#o.maxKinds ? kind : OTHER_KINDS;
    let s = this.#kinds.get(key);
    if (!s || (now - s.since >= this.#o.windowMs && s.held === 0)) {
      s = { since: now, passed: 0, held: 0, last: '' };
      this.#kinds.set(key, s);
    }
    if (s.passed < this.#o.perWindow) {
      s.passed += 1;
      return true;
    }
    s.held += 1;
    s.last = line;
    return false;
  }

  /**
   * The kinds whose window is over with lines held back (every kind's, `all`: the log is
   * closing); their counts start again.
   */
  flush(all = false): HeldLines[] {
    const now = this.#o.now();
    const out: HeldLines[] = [];
    for (const [kind, s] of this.#kinds) {
      if (!all && now - s.since < this.#o.windowMs) continue;
      if (s.held > 0) out.push({ kind, held: s.held, last: s.last });
      this.#kinds.delete(kind);
    }
    return out;
  }
}
