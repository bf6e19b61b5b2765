// The monitor page's area filter (client/src/monitor/area-watch.ts): a filter the server
// refuses or the session does not have falls back to every point, and only the answer to
// the newest watch counts, whatever order the answers arrive in.
import type { MonitorFilter, MonitorSnapshot } from '../../server/contract/attendance';
import { AreaWatcher, knownArea, watchArea } from '../../client/src/monitor/area-watch';
import { RequestError } from '../../client/src/net/request';

const areas = {
  provinces: [
    { code: 'P01', name: 'Tỉnh 1' },
    { code: 'P02', name: 'Tỉnh 2' },
  ],
  districts: [
    { code: 'P01-D01', name: 'Huyện 1', province: 'P01' },
    { code: '_province', name: 'Cấp tỉnh', province: null },
  ],
};

/** What the server answers: the areas whole, the filter as asked, a tile naming it. */
const snapshot = (filter: MonitorFilter) =>
  ({ areas, filter, points: [{ id: JSON.stringify(filter) }] }) as unknown as MonitorSnapshot;

/** A server that refuses the filters `refuse` says, and records what it was asked. */
function server(refuse: (f: MonitorFilter) => boolean = () => false) {
  const asked: MonitorFilter[] = [];
  const ask = (f: MonitorFilter) => {
    asked.push(f);
    return refuse(f) ? Promise.reject(new RequestError('bad_request', 'invalid input')) : Promise.resolve(snapshot(f));
  };
  return { asked, ask };
}

describe("the monitor's area filter", () => {
  test('the areas the session has are kept; others, and a district of another province, are dropped', () => {
    expect(knownArea({ province: 'P01', district: 'P01-D01' }, areas)).toEqual({
      province: 'P01',
      district: 'P01-D01',
    });
    expect(knownArea({ district: '_province' }, areas)).toEqual({ district: '_province' });
    expect(knownArea({ province: 'P09' }, areas)).toEqual({});
    expect(knownArea({ district: 'P01-D77' }, areas)).toEqual({});
    expect(knownArea({ province: 'P02', district: 'P01-D01' }, areas)).toEqual({ province: 'P02' });
  });

  test('a known area is watched as asked, once', async () => {
    const s = server();
    const w = await watchArea(s.ask, { district: 'P01-D01' });
    expect(w.dropped).toBe(false);
    expect(w.snapshot.filter).toEqual({ district: 'P01-D01' });
    expect(s.asked).toEqual([{ district: 'P01-D01' }]);
  });

  test('a filter the server refuses falls back to every point', async () => {
    const s = server((f) => f.district === 'bad code');
    const w = await watchArea(s.ask, { district: 'bad code' });
    expect(w).toEqual({ snapshot: snapshot({}), dropped: true });
    expect(s.asked).toEqual([{ district: 'bad code' }, {}]);
  });

  test('a district the session does not have (a stale address) falls back to every point', async () => {
    const s = server();
    const w = await watchArea(s.ask, { district: 'P01-D77' });
    expect(w.dropped).toBe(true);
    expect(w.snapshot.filter).toEqual({});
    expect(s.asked).toEqual([{ district: 'P01-D77' }, {}]);
  });

  test('other errors, and a refusal of every point, are thrown', async () => {
    await expect(watchArea(server(() => true).ask, {})).rejects.toMatchObject({ code: 'bad_request' });
    const timeout = () => Promise.reject(new RequestError('timeout', 'no answer'));
    await expect(watchArea(timeout, { district: 'P01-D01' })).rejects.toMatchObject({ code: 'timeout' });
  });

  test("a slow answer for an old filter arriving after the new one's is dropped", async () => {
    const pending = new Map<string, (s: MonitorSnapshot) => void>();
    const ask = (f: MonitorFilter) =>
      new Promise<MonitorSnapshot>((resolve) => pending.set(JSON.stringify(f), resolve));
    const watcher = new AreaWatcher();
    const old = watcher.watch(ask, { province: 'P01' });
    const now = watcher.watch(ask, { province: 'P02' });
    pending.get('{"province":"P02"}')!(snapshot({ province: 'P02' }));
    const got = await now;
    expect(got?.snapshot.filter).toEqual({ province: 'P02' });
    pending.get('{"province":"P01"}')!(snapshot({ province: 'P01' }));
    expect(await old).toBeUndefined();
    expect(got?.current()).toBe(true);
    // A watch made after it: the earlier one is no longer current.
    void watcher.watch(ask, {});
    expect(got?.current()).toBe(false);
  });

  test('an old watch that fails after a newer one was made is dropped, its error too', async () => {
    let fail: (e: Error) => void = () => undefined;
    const watcher = new AreaWatcher();
    const old = watcher.watch(() => new Promise((_, reject) => (fail = reject)), { province: 'P01' });
    const now = await watcher.watch(server().ask, {});
    fail(new RequestError('timeout', 'no answer'));
    expect(await old).toBeUndefined();
    expect(now?.snapshot.filter).toEqual({});
  });
});
