// Scale-out, pure parts: which `?home=` a point page follows, whether it asks which node
// serves it, and how the raised hands of several nodes merge for the host.
import { followAssignment, isNodeUrls, vouchedHome } from '../../client/src/point/cluster';
import { NodeUrlsSchema } from '../../server/contract/cluster';
import { loadConfig } from '../../server/config';
import { mergeHands } from '../../server/cluster/live-links';
import type { Hand } from '../../server/contract/broadcast';

describe('a point page follows only a home the cluster vouches for', () => {
  test('the node-urls answer is checked by hand as the contract’s schema checks it', () => {
    const cases: unknown[] = [
      { urls: ['http://a.example.vn', 'https://b.example.vn'] },
      { urls: [] },
      { urls: ['http://a.example.vn'], extra: 1 },
      { urls: ['http://a.example.vn', 3] },
      { urls: 'http://a.example.vn' },
      {},
      null,
      [],
      'urls',
    ];
    for (const c of cases) expect({ c, ok: isNodeUrls(c) }).toEqual({ c, ok: NodeUrlsSchema.safeParse(c).success });
  });

  const self = 'http://edge-a.example.vn:3011';
  const known = ['http://control.example.vn', 'http://edge-a.example.vn:3011', 'https://lb.example.vn/'];

  test("a node's URL is followed, as its origin", () => {
    expect(vouchedHome('http://control.example.vn', self, known)).toBe('http://control.example.vn');
    expect(vouchedHome('https://lb.example.vn/join/x?y=1', self, known)).toBe('https://lb.example.vn');
  });

  test('a foreign URL, or one differing only in scheme or port, falls back to the page itself', () => {
    for (const raw of [
      'https://evil.example.com',
      'http://control.example.vn.evil.example.com',
      'https://control.example.vn',
      'http://control.example.vn:8080',
      'http://lb.example.vn',
      'javascript:alert(1)',
      'data:text/html,hi',
      '//evil.example.com',
      'not a url',
    ]) {
      expect(vouchedHome(raw, self, known)).toBe(self);
    }
  });

  test('no home, or nothing known (one process, registry unreadable), is the page itself', () => {
    expect(vouchedHome(null, self, known)).toBe(self);
    expect(vouchedHome('http://control.example.vn', self, [])).toBe(self);
    expect(vouchedHome('http://control.example.vn', self, ['garbage'])).toBe(self);
  });
});

describe('a point page asks which node serves it only when its server is not alone', () => {
  const g = globalThis as Record<string, unknown>;
  const page = (cluster: string | undefined) => {
    g.document = {
      querySelector: (q: string) => (q === 'meta[name="briefing-cluster"]' && cluster ? { content: cluster } : null),
    };
    g.location = { origin: 'http://node.example.vn', search: '' };
  };
  let fetchSpy: jest.SpyInstance;
  beforeEach(() => {
    fetchSpy = jest.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(null, { status: 204 }));
  });
  afterEach(() => {
    fetchSpy.mockRestore();
    delete g.document;
    delete g.location;
  });

  test('a single server (its page says so): no question, the socket connects at once', async () => {
    page('none');
    await expect(followAssignment('tok')).resolves.toBe(false);
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  test('a node of a cluster (nothing said): the page asks, and stays when told 204', async () => {
    page(undefined);
    await expect(followAssignment('tok')).resolves.toBe(false);
    expect(fetchSpy).toHaveBeenCalledWith('/cluster/v1/join/tok/node', { cache: 'no-store' });
  });
});

describe("the host's list of raised hands across nodes", () => {
  const hand = (pointId: string, second: number): Hand => ({
    pointId,
    name: pointId,
    district: 'd',
    raisedAt: `2025-01-18T08:00:${String(second).padStart(2, '0')}.000Z`,
  });
  const nodes = [
    { id: 'origin-1', startedAt: 'o' },
    { id: 'edge-a', startedAt: 'a2' },
    { id: 'edge-b', startedAt: 'b' },
  ];
  const stored = (startedAt: string, hands: Hand[]) => JSON.stringify({ startedAt, hands });

  test("merges live nodes' hands in order of raising, this node's from memory", () => {
    const list = mergeHands(
      'origin-1',
      [hand('P2', 5)],
      {
        'origin-1': stored('o', [hand('STALE', 1)]),
        'edge-a': stored('a2', [hand('P1', 3), hand('P3', 9)]),
        'edge-b': stored('b', [hand('P4', 7)]),
      },
      nodes,
    );
    expect(list.map((h) => h.pointId)).toEqual(['P1', 'P2', 'P4', 'P3']);
  });

  test("drops a gone node's hands and those of a node's previous run; a point moved counts once", () => {
    const list = mergeHands(
      'origin-1',
      [],
      {
        'edge-a': stored('a1', [hand('OLD', 1)]),
        'edge-c': stored('c', [hand('GONE', 2)]),
        'edge-b': stored('b', [hand('P1', 4), hand('P5', 6)]),
        'edge-x': 'not json',
      },
      [...nodes, { id: 'edge-x', startedAt: 'x' }],
    );
    expect(list.map((h) => h.pointId)).toEqual(['P1', 'P5']);
    const moved = mergeHands('edge-a', [hand('P1', 8)], { 'edge-b': stored('b', [hand('P1', 4)]) }, nodes);
    expect(moved).toEqual([hand('P1', 4)]);
  });
});

describe('a control node runs no media', () => {
  test('no mediasoup worker whatever MEDIASOUP_WORKERS says; other roles unchanged', () => {
    const APP_SECRET = 'c1uster-n0des-share-this-s3cret-9f2e7a';
    expect(loadConfig({ NODE_ROLE: 'control', APP_SECRET, MEDIASOUP_WORKERS: '2' }).mediasoup.numWorkers).toBe(0);
    expect(loadConfig({ NODE_ROLE: 'edge', APP_SECRET, MEDIASOUP_WORKERS: '2' }).mediasoup.numWorkers).toBe(2);
    expect(loadConfig({ MEDIASOUP_WORKERS: '3' }).mediasoup.numWorkers).toBe(3);
  });
});
