// The point page's outbox: headcounts and problem reports the page waits to see stored.
// Kept in localStorage (a reload keeps them) and sent again until the server stores them
// or refuses them for good; a newer headcount replaces one not sent yet.
import type { PointClientEvents } from '../../../server/contract/namespaces';
import { RequestError, type Request } from '../net/request';
import { setBi } from '../ui/i18n';

const RETRYABLE = new Set(['unavailable', 'timeout', 'disconnected', 'rate_limited', 'internal']);
const RETRY_MS = 3000;

export type OutboxItem =
  | { event: 'headcount:report'; payload: { count: number; by?: string } }
  | { event: 'problem:report'; payload: { kind: 'no-video' | 'no-audio' | 'other'; note?: string } };

export class ReportOutbox {
  #items: OutboxItem[] = [];
  #flushing = false;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly o: {
      /** The localStorage key (one per point page). */
      storeKey: string;
      request: Request<PointClientEvents>;
      /** Shows how many reports wait, hidden when none. */
      line: HTMLElement;
      headcountStored: (count: number, at: string) => void;
      problemStored: () => void;
      /** Refused for good (e.g. the session is over): the server's error. */
      refused: (err: unknown) => void;
    },
  ) {
    try {
      this.#items = JSON.parse(localStorage.getItem(o.storeKey) ?? '[]') as OutboxItem[];
    } catch {
      this.#items = [];
    }
    this.#save();
  }

  enqueue(item: OutboxItem): void {
    if (item.event === 'headcount:report') this.#items = this.#items.filter((i) => i.event !== 'headcount:report');
    this.#items.push(item);
    this.#save();
    this.flush();
  }

  /** Sends what waits, in order; a retryable failure waits a few seconds and tries again. */
  flush(): void {
    void this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    clearTimeout(this.#retryTimer);
    try {
      while (this.#items.length > 0) {
        const item = this.#items[0]!;
        try {
          if (item.event === 'headcount:report') {
            const hc = await this.o.request('headcount:report', item.payload);
            this.o.headcountStored(hc.count, hc.at);
          } else {
            await this.o.request('problem:report', item.payload);
            this.o.problemStored();
          }
          this.#items.shift();
          this.#save();
        } catch (err) {
          const code = err instanceof RequestError ? err.code : 'internal';
          if (RETRYABLE.has(code)) {
            this.#retryTimer = setTimeout(() => this.flush(), RETRY_MS);
            return;
          }
          this.#items.shift(); // refused for good: said so, the next one goes
          this.#save();
          this.o.refused(err);
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #save(): void {
    try {
      localStorage.setItem(this.o.storeKey, JSON.stringify(this.#items));
    } catch {
      // private mode: the queue lives in memory only
    }
    const n = this.#items.length;
    this.o.line.classList.toggle('hidden', n === 0);
    setBi(this.o.line, [`${n} báo cáo chưa gửi được, đang thử lại…`, `${n} report(s) not sent yet, retrying…`]);
  }
}
