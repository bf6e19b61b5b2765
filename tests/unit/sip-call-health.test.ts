// A room system's health reports: one round at a time, and none for a call that ended
// while its statistics were being read (it would show the point connected again).
import pino from 'pino';
import { SipCallHealth } from '../../server/sip/call-health';
import type { SipCallRequest } from '../../server/sip/gateway';
import type { SipCallMediaStats } from '../../server/sip/media-bridge';

const call = { callId: 'c1', sessionId: 'S1', pointId: 'HT-CX' } as SipCallRequest;

describe('SIP call health', () => {
  afterEach(() => jest.useRealTimers());

  test('a slow statistics read is not overlapped, and a call ended meanwhile is not reported', async () => {
    jest.useFakeTimers();
    const reports: string[] = [];
    const events: string[] = [];
    const health = new SipCallHealth({
      attendance: {
        pointConnected: () => void events.push('connected'),
        pointDisconnected: () => void events.push('disconnected'),
        healthReport: async (_id, socketId) => {
          reports.push(socketId);
          return 'good';
        },
      },
      logger: pino({ level: 'silent' }),
    });
    const reads: ((s: SipCallMediaStats) => void)[] = [];
    const stats = () => new Promise<SipCallMediaStats>((resolve) => reads.push(resolve));
    health.started(call, { answer: '', close: () => undefined, stats });
    jest.advanceTimersByTime(2000);
    jest.advanceTimersByTime(2000);
    expect(reads).toHaveLength(1); // the second tick did not start another round
    health.ended(call, 'hung up');
    reads[0]!({ audioClockRate: 8000 });
    await jest.advanceTimersByTimeAsync(0);
    expect(reports).toEqual([]);
    expect(events).toEqual(['connected', 'disconnected']);
    health.close();
  });
});
