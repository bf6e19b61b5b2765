// The point page asks the browser for its own RTP capabilities as it starts
// (client/src/rtc/early-device.ts), so that the device's load, once the router's arrive,
// asks nothing more of the browser. mediasoup-client's detection and handler are stood in for.
import { EARLY_QUERY_WAIT_MS, earlyHandlerFactory, type HandlerSource } from '../../client/src/rtc/early-device';

const asked: string[] = [];
const browser = { name: 'Chrome111', failFirst: false, failAll: false, hangFirst: false, hangEarly: false };

const lib: HandlerSource = {
  detectDevice: () => browser.name,
  HANDLERS: {
    Chrome111: () =>
      ({
        name: 'Chrome111',
        factory: () => ({}),
        getNativeRtpCapabilities: ({ direction }: { direction: string }) => {
          asked.push(direction);
          if (browser.hangFirst && asked.length === 1) return new Promise(() => undefined);
          if (browser.hangEarly && asked.length <= 2) return new Promise(() => undefined);
          if (browser.failAll || (browser.failFirst && asked.length === 1))
            return Promise.reject(new Error('no peer connection yet'));
          return Promise.resolve({ codecs: [], headerExtensions: [], asked: direction });
        },
        getNativeSctpCapabilities: () => {
          asked.push('sctp');
          return Promise.resolve({ numStreams: { OS: 1024, MIS: 1024 } });
        },
      }) as never,
  },
};

beforeEach(() => {
  asked.length = 0;
  browser.name = 'Chrome111';
  browser.failFirst = false;
  browser.failAll = false;
  browser.hangFirst = false;
  browser.hangEarly = false;
});
afterEach(() => jest.useRealTimers());

test('the browser is asked at once, and the load that follows asks it nothing more', async () => {
  const f = earlyHandlerFactory(lib)!;
  expect(f.name).toBe('Chrome111');
  expect(asked).toEqual(['recvonly', 'sendonly', 'sctp']);
  await expect(f.getNativeRtpCapabilities({ direction: 'recvonly' })).resolves.toMatchObject({ asked: 'recvonly' });
  await expect(f.getNativeRtpCapabilities({ direction: 'sendonly' })).resolves.toMatchObject({ asked: 'sendonly' });
  await expect(f.getNativeSctpCapabilities()).resolves.toEqual({ numStreams: { OS: 1024, MIS: 1024 } });
  expect(asked).toEqual(['recvonly', 'sendonly', 'sctp']);
});

test('a query that failed early is asked again when the load needs it', async () => {
  browser.failFirst = true;
  const f = earlyHandlerFactory(lib)!;
  await expect(f.getNativeRtpCapabilities({ direction: 'recvonly' })).resolves.toMatchObject({ asked: 'recvonly' });
  expect(asked).toEqual(['recvonly', 'sendonly', 'sctp', 'recvonly']);
});

test('a query that fails early and again rejects, so that the load fails and is tried again', async () => {
  browser.failAll = true;
  const f = earlyHandlerFactory(lib)!;
  await expect(f.getNativeRtpCapabilities({ direction: 'recvonly' })).rejects.toThrow('no peer connection yet');
  expect(asked).toEqual(['recvonly', 'sendonly', 'sctp', 'recvonly']);
});

test('an early query that never settles holds the load only for the bounded wait, then is asked again', async () => {
  jest.useFakeTimers();
  browser.hangFirst = true;
  const f = earlyHandlerFactory(lib)!;
  let answer: unknown;
  const load = f.getNativeRtpCapabilities({ direction: 'recvonly' }).then((a) => (answer = a));
  await jest.advanceTimersByTimeAsync(EARLY_QUERY_WAIT_MS - 1);
  expect(answer).toBeUndefined();
  expect(asked).toEqual(['recvonly', 'sendonly', 'sctp']);
  await jest.advanceTimersByTimeAsync(1);
  await load;
  expect(answer).toMatchObject({ asked: 'recvonly' });
  expect(asked).toEqual(['recvonly', 'sendonly', 'sctp', 'recvonly']);
});

test("early queries that never settle hold the load's asks in turn only for one bounded wait in all", async () => {
  jest.useFakeTimers();
  browser.hangEarly = true;
  const f = earlyHandlerFactory(lib)!;
  // As mediasoup-client's Device.load asks: receiving, then sending, then SCTP.
  let done = false;
  const load = async () => {
    await f.getNativeRtpCapabilities({ direction: 'recvonly' });
    await f.getNativeRtpCapabilities({ direction: 'sendonly' });
    await f.getNativeSctpCapabilities();
  };
  void load().then(() => (done = true));
  await jest.advanceTimersByTimeAsync(EARLY_QUERY_WAIT_MS - 1);
  expect(done).toBe(false);
  await jest.advanceTimersByTimeAsync(1);
  // The sending and SCTP asks find the wait over: a timer of 0 each, run a few turns later.
  for (let i = 0; i < 20; i++) await jest.advanceTimersByTimeAsync(1);
  expect([done, asked.length]).toEqual([true, 5]);
  expect(asked).toEqual(['recvonly', 'sendonly', 'sctp', 'recvonly', 'sendonly']);
  // A second load gets the answers asked again, with no wait and no new ask.
  await load();
  expect(asked).toEqual(['recvonly', 'sendonly', 'sctp', 'recvonly', 'sendonly']);
  expect(jest.getTimerCount()).toBe(0);
});

test('an early answer that came is used without waiting, and leaves no timer behind', async () => {
  jest.useFakeTimers();
  const f = earlyHandlerFactory(lib)!;
  await expect(f.getNativeRtpCapabilities({ direction: 'sendonly' })).resolves.toMatchObject({ asked: 'sendonly' });
  expect(jest.getTimerCount()).toBe(0);
  expect(asked).toEqual(['recvonly', 'sendonly', 'sctp']);
});

test('a browser mediasoup-client has no handler for here is left to the device', () => {
  browser.name = 'ReactNative106';
  expect(earlyHandlerFactory(lib)).toBeUndefined();
  browser.name = '';
  expect(earlyHandlerFactory(lib)).toBeUndefined();
  browser.name = 'toString';
  expect(earlyHandlerFactory(lib)).toBeUndefined();
});
