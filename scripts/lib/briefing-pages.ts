// What a point page decodes, read from its mediasoup-client consumers, and the host page
// going live: for the end-to-end tests (tests/helpers/media.ts) and the benchmarks.
// mediasoup-client adds a receive-side "probator" video transceiver (mid `probator`) that
// decodes nothing: each consumer's own stats are read and `probator` is skipped.
import type { Page } from 'playwright-core';

export interface MediaStat {
  id: string;
  source: string;
  kind: string;
  frames: number;
  energy: number;
  packets: number;
  /** Height of the last decoded frame (0 for audio). */
  height: number;
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
            height: Number(s.frameHeight ?? 0),
          });
        }
      });
    }
    return out;
  });
}

/** On a logged-in /host page: open the first session's live console and go live. */
export async function hostGoesLive(host: Page, baseUrl: string): Promise<void> {
  await host.goto(`${baseUrl}/host`);
  await host.click('[data-testid=sessions-view] button:has-text("Mở")');
  await host.click('button:has-text("Bàn điều khiển trực tiếp")');
  await host.waitForSelector('[data-testid=camera-select] option', { state: 'attached' });
  await host.click('[data-testid=go-live]');
  await host.waitForSelector('[data-testid=host-status]:has-text("ĐANG PHÁT TRỰC TIẾP")', { timeout: 30_000 });
}
