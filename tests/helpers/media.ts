// What a point page decodes, read from its mediasoup-client consumers, and the host page
// going live. mediasoup-client adds a receive-side "probator" video transceiver (mid
// `probator`) that decodes nothing: reading the transport's first video inbound-rtp could
// return it instead of the real consumer, so each consumer's own stats are read and
// `probator` is skipped.
import type { Page } from 'playwright-core';
import { waitFor } from './orchestrator';

export interface MediaStat {
  id: string;
  source: string;
  kind: string;
  frames: number;
  energy: number;
  packets: number;
}

export function mediaStats(page: Page): Promise<MediaStat[]> {
  return page.evaluate(async () => {
    const w = window as unknown as {
      briefing: {
        receiver: { consumers(): { id: string; appData: { source: string }; getStats(): Promise<RTCStatsReport> }[] };
      };
    };
    const out: MediaStat[] = [];
    for (const c of w.briefing.receiver.consumers()) {
      const report = await c.getStats();
      report.forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp' && s.mid !== 'probator') {
          out.push({
            id: c.id,
            source: c.appData.source,
            kind: String(s.kind),
            frames: Number(s.framesDecoded ?? 0),
            energy: Number(s.totalAudioEnergy ?? 0),
            packets: Number(s.packetsReceived ?? 0),
          });
        }
      });
    }
    return out;
  });
}

/** Waits until the page decodes `source` past `above` (frames, or audio energy). */
export function decoding(
  page: Page,
  source: string,
  opts: { what?: 'frames' | 'energy'; above?: number; notId?: string; timeoutMs?: number } = {},
): Promise<MediaStat> {
  const what = opts.what ?? 'frames';
  const above = opts.above ?? 0;
  return waitFor(
    async () => (await mediaStats(page)).find((s) => s.source === source && s[what] > above && s.id !== opts.notId),
    `${source} ${what} above ${above}${opts.notId ? ' on a new consumer' : ''}`,
    opts.timeoutMs ?? 30_000,
    100,
  );
}

/** Frames of the hall camera decoded by the page right now (0 without a consumer). */
export async function hallFrames(page: Page): Promise<number> {
  try {
    return (await mediaStats(page)).find((s) => s.source === 'host-camera')?.frames ?? 0;
  } catch {
    return 0;
  }
}

/** On a logged-in /host page: open the first session's live console and go live. */
export async function hostGoesLive(host: Page, baseUrl: string): Promise<void> {
  await host.goto(`${baseUrl}/host`);
  await host.click('[data-testid=sessions-view] button:has-text("Mở")');
  await host.click('button:has-text("Bàn điều khiển trực tiếp")');
  await host.waitForSelector('[data-testid=camera-select] option', { state: 'attached' });
  await host.click('[data-testid=go-live]');
  await host.waitForSelector('[data-testid=host-status]:has-text("ĐANG PHÁT TRỰC TIẾP")', { timeout: 20_000 });
}

/** Marks the page so a test can tell later that it was never reloaded. */
export async function markPage(page: Page): Promise<void> {
  await page.evaluate(() => {
    (window as unknown as { __noReload: boolean }).__noReload = true;
  });
}

export function notReloaded(page: Page): Promise<boolean> {
  return page.evaluate(() => (window as unknown as { __noReload?: boolean }).__noReload === true);
}
