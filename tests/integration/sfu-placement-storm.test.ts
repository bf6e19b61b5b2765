// A join storm: many viewers ask for a receive transport at the same moment. Each must
// be placed on the router least loaded once the ones already on their way count, not
// all on whichever router looked empty when the first asked.
import { BroadcastRoom } from '../../sfu/broadcast-room';
import type { WorkerPool } from '../../sfu/worker-pool';
import { createPool, silent } from '../helpers/sfu';

jest.setTimeout(60_000);

let pool: WorkerPool;
beforeAll(async () => {
  pool = await createPool(2);
});
afterAll(() => pool.close());

test('60 viewers joining at once are spread evenly over two fan-out routers', async () => {
  const room = await BroadcastRoom.create({ pool, roomId: 'storm', logger: silent, layerPolicyIntervalMs: 0 });
  try {
    const ids = Array.from({ length: 60 }, (_, i) => `p${i}`);
    for (const id of ids) room.addViewer(id);
    await Promise.all(ids.map((id) => room.createWebRtcTransport(id, 'recv')));
    const perSlot = room.stats().routers.map((r) => r.transports);
    expect(perSlot).toHaveLength(2);
    expect(Math.abs(perSlot[0]! - perSlot[1]!)).toBeLessThanOrEqual(1);
  } finally {
    room.close();
  }
});
