// Alerts sent as signed webhooks to the desk's other tools (SMS or Zalo gateways, an
// incident tracker): each raise and each change is POSTed as JSON to every
// ALERT_WEBHOOK_URLS entry, with
//   X-Briefing-Timestamp: <unix seconds>
//   X-Briefing-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">
// keyed with the `alert-webhook` purpose key (server/security/keys.ts). Sending never
// blocks nor fails the alert path: deliveries run in the background, retried with
// exponential backoff, and a delivery that keeps failing is logged and dropped.
import { createHmac } from 'node:crypto';
import type { Logger } from 'pino';
import type { Alert } from '../../contract/attendance';

export interface AlertWebhookOptions {
  urls: readonly string[];
  key: Buffer;
  logger: Logger;
  /** Attempts per delivery (default 5). */
  attempts?: number;
  /** First retry delay; doubles each time (default 1 s). */
  baseDelayMs?: number;
  timeoutMs?: number;
}

export type AlertEvent = 'alert.raised' | 'alert.updated';

export function signWebhook(key: Buffer, timestamp: string, body: string): string {
  return `sha256=${createHmac('sha256', key).update(`${timestamp}.${body}`).digest('hex')}`;
}

export class AlertWebhooks {
  readonly #o: Required<AlertWebhookOptions>;
  readonly #pending = new Set<Promise<void>>();
  #closed = false;

  constructor(o: AlertWebhookOptions) {
    this.#o = { attempts: 5, baseDelayMs: 1000, timeoutMs: 5000, ...o };
  }

  /** Queues the alert for every URL; returns at once. */
  send(event: AlertEvent, alert: Alert): void {
    if (this.#closed) return;
    const body = JSON.stringify({ event, alert });
    for (const url of this.#o.urls) {
      const p = this.#deliver(url, body).finally(() => this.#pending.delete(p));
      this.#pending.add(p);
    }
  }

  async #deliver(url: string, body: string): Promise<void> {
    const { attempts, baseDelayMs, timeoutMs, key, logger } = this.#o;
    for (let i = 0; i < attempts && !this.#closed; i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, baseDelayMs * 2 ** (i - 1)).unref());
      const timestamp = String(Math.floor(Date.now() / 1000));
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-briefing-timestamp': timestamp,
            'x-briefing-signature': signWebhook(key, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        if (res.ok) return;
        logger.warn({ url, status: res.status, attempt: i + 1 }, 'alert webhook refused');
      } catch (err) {
        logger.warn({ url, err: (err as Error).message, attempt: i + 1 }, 'alert webhook failed');
      }
    }
    logger.error({ url }, 'alert webhook dropped after its retries');
  }

  /** Stops retrying; waits for the deliveries in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    await Promise.allSettled([...this.#pending]);
  }
}
