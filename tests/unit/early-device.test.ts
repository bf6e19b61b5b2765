// The point page asks the browser for its own RTP capabilities as it starts
// (client/src/rtc/early-device.ts), so that the device's load, once the router's arrive,
// asks nothing more of the browser. mediasoup-client's detection and handler are stood in for.
import { earlyHandlerFactory } from '../../client/src/rtc/early-device';

const mockAsked: string[] = [];
const mockBrowser = { name: 'Chrome111', failFirst: false, failAll: false };

jest.mock('mediasoup-client', () => ({ detectDevice: () => mockBrowser.name }));
jest.mock('mediasoup-client/handlers/Chrome111', () => ({
  Chrome111: {
    createFactory: () => ({
      name: 'Chrome111',
      factory: () => ({}),
      getNativeRtpCapabilities: async ({ direction }: { direction: string }) => {
        mockAsked.push(direction);
        if (mockBrowser.failAll || (mockBrowser.failFirst && mockAsked.length === 1))
          throw new Error('no peer connection yet');
        return { codecs: [], headerExtensions: [], asked: direction };
      },
      getNativeSctpCapabilities: async () => {
        mockAsked.push('sctp');
        return { numStreams: { OS: 1024, MIS: 1024 } };
      },
    }),
  },
}));

beforeEach(() => {
  mockAsked.length = 0;
  mockBrowser.name = 'Chrome111';
  mockBrowser.failFirst = false;
  mockBrowser.failAll = false;
});

test('the browser is asked at once, and the load that follows asks it nothing more', async () => {
  const f = earlyHandlerFactory()!;
  expect(f.name).toBe('Chrome111');
  expect(mockAsked).toEqual(['recvonly', 'sendonly', 'sctp']);
  await expect(f.getNativeRtpCapabilities({ direction: 'recvonly' })).resolves.toMatchObject({ asked: 'recvonly' });
  await expect(f.getNativeRtpCapabilities({ direction: 'sendonly' })).resolves.toMatchObject({ asked: 'sendonly' });
  await expect(f.getNativeSctpCapabilities()).resolves.toEqual({ numStreams: { OS: 1024, MIS: 1024 } });
  expect(mockAsked).toEqual(['recvonly', 'sendonly', 'sctp']);
});

test('a query that failed early is asked again when the load needs it', async () => {
  mockBrowser.failFirst = true;
  const f = earlyHandlerFactory()!;
  await expect(f.getNativeRtpCapabilities({ direction: 'recvonly' })).resolves.toMatchObject({ asked: 'recvonly' });
  expect(mockAsked).toEqual(['recvonly', 'sendonly', 'sctp', 'recvonly']);
});

test('a query that fails early and again rejects, so that the load fails and is tried again', async () => {
  mockBrowser.failAll = true;
  const f = earlyHandlerFactory()!;
  await expect(f.getNativeRtpCapabilities({ direction: 'recvonly' })).rejects.toThrow('no peer connection yet');
  expect(mockAsked).toEqual(['recvonly', 'sendonly', 'sctp', 'recvonly']);
});

test('a browser mediasoup-client has no handler for here is left to the device', () => {
  mockBrowser.name = 'ReactNative106';
  expect(earlyHandlerFactory()).toBeUndefined();
  mockBrowser.name = '';
  expect(earlyHandlerFactory()).toBeUndefined();
});
