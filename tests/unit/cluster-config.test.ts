import { ConfigError, loadConfig } from '../../server/config';
import { clusterChannels } from '../../server/cluster/keys';

describe('scale-out configuration', () => {
  test('defaults to one process doing everything', () => {
    const c = loadConfig({ PORT: '3100' }).cluster;
    expect(c.role).toBe('all');
    expect(c.nodeId).toMatch(/-3100$/);
    expect(c).toMatchObject({ heartbeatMs: 2000, ttlMs: 6000, upstream: undefined, pipeIp: undefined });
  });

  test('reads the role, identity, URLs, region and timings', () => {
    const c = loadConfig({
      NODE_ROLE: 'edge',
      APP_SECRET: 'c1uster-n0des-share-this-s3cret-9f2e7a',
      NODE_ID: 'edge-a',
      NODE_PUBLIC_URL: 'https://edge-a.example.vn/',
      NODE_INTERNAL_URL: 'http://10.0.0.11:3011',
      NODE_REGION: 'Cẩm Xuyên',
      NODE_UPSTREAM: 'edge-b',
      CLUSTER_PIPE_IP: '10.0.0.11',
      CLUSTER_HEARTBEAT_MS: '1000',
      CLUSTER_NODE_TTL_MS: '1000',
    }).cluster;
    expect(c).toEqual({
      role: 'edge',
      nodeId: 'edge-a',
      publicUrl: 'https://edge-a.example.vn',
      internalUrl: 'http://10.0.0.11:3011',
      region: 'Cẩm Xuyên',
      upstream: 'edge-b',
      pipeIp: '10.0.0.11',
      heartbeatMs: 1000,
      // Never shorter than two heartbeats: one late beat must not kill a node.
      ttlMs: 2000,
    });
  });

  test('refuses a bad role or node id, naming the variable', () => {
    expect(() => loadConfig({ NODE_ROLE: 'sfu' })).toThrow(ConfigError);
    try {
      loadConfig({ NODE_ID: 'edge a:1' });
    } catch (err) {
      expect((err as ConfigError).issues[0]!.variable).toBe('NODE_ID');
    }
  });

  test('producer channels name the feeding node and the session', () => {
    const ch = clusterChannels.producers('edge-b', 'S1:x');
    expect(clusterChannels.parseProducers(ch)).toEqual(['edge-b', 'S1:x']);
    expect(clusterChannels.parseProducers('cluster:session-events')).toBeUndefined();
  });
});
