// The point page's receiver (client/src/rtc/receiver.ts) on its first join: the device
// loads once, and may load before the media starts (the page asks as soon as its socket
// connects, while it waits for the view), with the handlers asked of the browser early when
// the page warmed it up; the hall's camera is consumed first. mediasoup-client (its lazy
// import) and the early query are stood in for: the order of the requests to the server, and what the device is
// built with, are what is checked.
import { BroadcastReceiver } from '../../client/src/rtc/receiver';

/** The arguments of every Device built. */
const mockDevices: unknown[][] = [];
const mockEarly = { name: 'early handlers' };

jest.mock('../../client/src/rtc/early-device', () => ({ earlyHandlerFactory: () => mockEarly }));
jest.mock('../../client/src/rtc/lazy-mediasoup', () => {
  class FakeConsumer {
    readonly track = { id: 'track' };
    constructor(readonly id: string) {}
    on(): void {}
  }
  class FakeTransport {
    readonly id = 'transport-1';
    closed = false;
    on(): void {}
    async consume(o: { id: string }): Promise<FakeConsumer> {
      return new FakeConsumer(o.id);
    }
    close(): void {
      this.closed = true;
    }
  }
  class Device {
    readonly rtpCapabilities = {};
    constructor(...args: unknown[]) {
      mockDevices.push(args);
    }
    async load(): Promise<void> {}
    createRecvTransport(): FakeTransport {
      return new FakeTransport();
    }
  }
  const lib = Promise.resolve({ Device });
  return { loadMediasoup: () => lib };
});

/** A socket that answers every request at once and keeps their order. */
function fakeSocket() {
  const asked: string[] = [];
  const socket = {
    connected: true,
    asked,
    timeout: () => socket,
    emitWithAck: async (event: string, payload: Record<string, unknown>) => {
      asked.push(event === 'rtc:consume' ? `${event} ${String(payload.producerId)}` : event);
      const data: Record<string, unknown> =
        event === 'rtc:consume'
          ? {
              id: `c-${String(payload.producerId)}`,
              producerId: payload.producerId,
              kind: 'video',
              rtpParameters: {},
              source: payload.producerId,
            }
          : event === 'rtc:createTransport'
            ? { id: 'transport-1' }
            : event === 'rtc:capabilities'
              ? { routerRtpCapabilities: {} }
              : {};
      await Promise.resolve();
      return { ok: true, data };
    },
  };
  return socket;
}

beforeEach(() => (mockDevices.length = 0));

const events = { onTrack: () => undefined, onTrackEnded: () => undefined, onState: () => undefined };
const producer = (source: string) => ({ producerId: source, kind: 'video', source }) as never;

test('the device loads once, before the media starts when asked early', async () => {
  const socket = fakeSocket();
  const steps: string[] = [];
  const r = new BroadcastReceiver(socket as never, { ...events, onStep: (s) => steps.push(s) });
  const early = r.prepare();
  expect(r.prepare()).toBe(early);
  await early;
  expect(socket.asked).toEqual(['rtc:capabilities']);
  await r.start([]);
  expect(socket.asked).toEqual(['rtc:capabilities', 'rtc:createTransport']);
  expect(steps).toEqual(['device', 'transport']);
});

test("the hall's camera is consumed first, whatever the order of the producers", async () => {
  const socket = fakeSocket();
  const r = new BroadcastReceiver(socket as never, events);
  await r.start([producer('host-mic'), producer('host-screen'), producer('host-camera')]);
  expect(socket.asked.filter((e) => e.startsWith('rtc:consume'))).toEqual([
    'rtc:consume host-camera',
    'rtc:consume host-mic',
    'rtc:consume host-screen',
  ]);
});

test('warmed up, the device is built with the handlers asked early; else as mediasoup-client detects', async () => {
  const warm = new BroadcastReceiver(fakeSocket() as never, events);
  warm.warmUp();
  await warm.prepare();
  expect(mockDevices).toEqual([[{ handlerFactory: mockEarly }]]);
  mockDevices.length = 0;
  await new BroadcastReceiver(fakeSocket() as never, events).prepare();
  expect(mockDevices).toEqual([[undefined]]);
});
