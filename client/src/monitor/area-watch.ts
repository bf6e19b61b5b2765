// The monitor's area filter as the server takes it (`monitor:watch`): a filter the
// server refuses, or a province or district the session does not have (an old bookmark,
// another registry's code), falls back to every point instead of an empty desk; and only
// the answer to the newest request counts, whatever order the answers arrive in.
import type { MonitorAreas, MonitorFilter, MonitorSnapshot } from '../../../server/contract/attendance';
import { RequestError } from '../net/request';

/** The filter with the parts the session's areas do not have dropped. */
export function knownArea(f: MonitorFilter, areas: MonitorAreas): MonitorFilter {
  const province = f.province && areas.provinces.some((p) => p.code === f.province) ? f.province : undefined;
  const d = f.district ? areas.districts.find((x) => x.code === f.district) : undefined;
  // A district of another province than the one asked for shows nothing: dropped.
  const district = d && (!province || !d.province || d.province === province) ? d.code : undefined;
  return { ...(province ? { province } : {}), ...(district ? { district } : {}) };
}

const sameArea = (a: MonitorFilter, b: MonitorFilter) => a.province === b.province && a.district === b.district;
const isEveryPoint = (f: MonitorFilter) => !f.province && !f.district;

export interface WatchedArea {
  snapshot: MonitorSnapshot;
  /** The filter asked for was refused or unknown, and every point is watched instead. */
  dropped: boolean;
}

/**
 * Watches `wanted`; when the server refuses it (`bad_request`), or the session has no such
 * province or district, watches every point.
 */
export async function watchArea(
  ask: (f: MonitorFilter) => Promise<MonitorSnapshot>,
  wanted: MonitorFilter,
): Promise<WatchedArea> {
  let snapshot: MonitorSnapshot;
  try {
    snapshot = await ask(wanted);
  } catch (err) {
    if (isEveryPoint(wanted) || !(err instanceof RequestError) || err.code !== 'bad_request') throw err;
    return { snapshot: await ask({}), dropped: true };
  }
  if (sameArea(knownArea(snapshot.filter, snapshot.areas), snapshot.filter)) return { snapshot, dropped: false };
  return { snapshot: await ask({}), dropped: true };
}

/**
 * The desk's watches in the order made: the answer (or error) to a watch made before the
 * last one is dropped, so a slow answer for an old filter never replaces a newer one.
 */
export class AreaWatcher {
  private last = 0;

  /**
   * Watches `wanted` (see watchArea); undefined when a later watch was made meanwhile.
   * `current()` stays true until the next watch is made.
   */
  async watch(
    ask: (f: MonitorFilter) => Promise<MonitorSnapshot>,
    wanted: MonitorFilter,
  ): Promise<(WatchedArea & { current: () => boolean }) | undefined> {
    const n = ++this.last;
    const current = () => n === this.last;
    try {
      const watched = await watchArea(ask, wanted);
      return current() ? { ...watched, current } : undefined;
    } catch (err) {
      if (current()) throw err;
      return undefined;
    }
  }
}
