// Real Chromium points inside the load generator's join storm (scripts/loadgen/chromium-points.ts):
// a page opens its point's join link at the storm's start beside the virtual points and
// its first decoded frame of the hall is timed in the page and reported with the storm,
// with the page's join in stages (client/src/rtc/join-stages.ts), every one reached, in order.
import { JOIN_PAGE_STAGES, joinStageProblems } from '../../client/src/rtc/join-stages';
import { CHROMIUM } from '../../scripts/lib/chromium';
import { runLoad } from '../../scripts/loadgen/run';
import { FFMPEG } from '../../scripts/loadgen/source';
import { requireInCi, toolMissing } from '../helpers/ci';

jest.setTimeout(180_000);

requireInCi(toolMissing(FFMPEG) ?? toolMissing(CHROMIUM))(
  'a Chromium page joining in the storm: its first decoded frame and its stages are reported',
  async () => {
    const r = await runLoad({
      points: 3,
      chromiumPoints: 1,
      duration: 3,
      workers: 1,
      floor: false,
      monitor: false,
      maxSeconds: 150,
    });
    expect(r.points.withKeyFrame).toBe(3);
    const c = r.join.chromium!;
    expect(c.pages).toBe(1);
    expect(c.firstFrameMs.points).toBe(1);
    const page = c.perPage[0]!;
    expect(page.error).toBeUndefined();
    // The page's navigation started at the storm, its frame after it; the two clocks agree.
    expect(page.navigationMs).toBeGreaterThanOrEqual(0);
    expect(page.firstFrameSinceNavigationMs).toBeGreaterThan(0);
    // (each rounded to the ms on its own)
    expect(Math.abs(page.firstFrameMs! - page.navigationMs! - page.firstFrameSinceNavigationMs!)).toBeLessThanOrEqual(
      1,
    );
    expect(c.firstFrameMs.max).toBe(page.firstFrameMs);
    // Every stage of the page's join, from its script's start to the frame, in order.
    expect(joinStageProblems(page.stages)).toEqual([]);
    expect(page.stages.script).toBeGreaterThan(0);
    expect(Math.round(page.stages.firstFrame!)).toBe(page.firstFrameSinceNavigationMs);
    for (const stage of JOIN_PAGE_STAGES) expect(c.stagesMs[stage].points).toBe(1);
    // Its point is not one of the virtual ones.
    expect(r.join.stagesByPoint.map((p) => p.pointId)).not.toContain(page.pointId);
  },
);
