// The SFU's log lines for a point's video stopping and starting again, as the server's
// logger writes them, read back by the load generator's parser
// (scripts/loadgen/video-stops.ts): the real consumer code path (sfu/room-consumers.ts) on
// a stand-in mediasoup consumer whose layers go to none and back.
import { EventEmitter } from 'node:events';
import { Writable } from 'node:stream';
import type { types as ms } from 'mediasoup';
import { parseSfuLine } from '../../scripts/loadgen/video-stops';
import { createLogger } from '../../server/logger';
import { Peer, type PeerTransport } from '../../sfu/peer';
import { RoomConsumers } from '../../sfu/room-consumers';

/** A simulcast consumer as far as RoomConsumers uses it. */
class FakeConsumer extends EventEmitter {
  readonly id = 'consumer-1';
  readonly producerId = 'producer-1';
  readonly kind = 'video';
  readonly type = 'simulcast';
  readonly rtpParameters = {};
  readonly paused = false;
  readonly producerPaused = false;
  readonly observer = new EventEmitter();
  closed = false;
  close(): void {
    this.closed = true;
    this.observer.emit('close');
  }
}

test('a stop, a resume and a stopped consumer closing each parse as the load generator expects', async () => {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  // As the server logs the SFU: its logger, the engine's child, the room's child.
  const log = createLogger({ level: 'info', pretty: false }, sink)
    .child({ component: 'sfu' })
    .child({ roomId: 'session-1' });
  const consumer = new FakeConsumer();
  const entry = {
    transport: { id: 'transport-1', closed: false, consume: async () => consumer },
    router: { canConsume: () => true },
    direction: 'recv',
    availableBitrate: 96_000,
  } as unknown as PeerTransport;
  const consumers = new RoomConsumers({
    isClosed: () => false,
    emit: () => undefined,
    log,
    maxConsumersPerTransport: 8,
    producers: { get: () => ({ peerId: 'hall', source: 'host-camera', producer: {} }) } as never,
    topology: { ensurePiped: async () => undefined, updateLoad: () => undefined },
    layers: { initial: () => ({ maxSpatialLayer: 0, layerState: { spatialLayer: 0 } }) } as never,
  });
  const peer = new Peer('point-7', 'viewer');
  await consumers.consume(peer, entry, 'producer-1', {} as ms.RtpCapabilities);

  const before = Date.now();
  consumer.emit('layerschange', null);
  consumer.emit('layerschange', { spatialLayer: 1, temporalLayer: 0 });
  consumer.emit('layerschange', null);
  consumer.close();
  const after = Date.now();

  const events = lines.map(parseSfuLine);
  expect(events.map((e) => e?.kind)).toEqual(['stop', 'again', 'stop', 'closed']);
  for (const e of events) {
    expect(e).toMatchObject({ pointId: 'point-7', consumerId: 'consumer-1', source: 'host-camera' });
    expect(e!.at).toBeGreaterThanOrEqual(before - 1);
    expect(e!.at).toBeLessThanOrEqual(after + 1);
  }
  expect(events.slice(0, 3).map((e) => e!.bitrateBps)).toEqual([96_000, 96_000, 96_000]);
});
