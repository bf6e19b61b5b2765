// Dial-out as the monitor sees it: DialOut over the real INVITE client, with the wire, the
// gateway's dialogs and the media faked in memory (no sockets, no processes, fake timers).
// What each monitor hears (calling → ringing → connected, failed with the SIP status) and
// what goes on the wire: a CANCEL only once the room system sent a provisional response, a
// 2xx that crosses a hang-up acknowledged and ended with a BYE, the ring time's cancel.
import pino from 'pino';
import type { DialStatus } from '../../server/contract/dial-out';
import { AppError } from '../../server/errors';
import type { SipCallMedia, SipCallRequest } from '../../server/sip/call-types';
import { DialOut, type DialOutDeps } from '../../server/sip/dial-out';
import type { DialOffer } from '../../server/sip/dial-sdp';
import { InviteClient, type DialedCall } from '../../server/sip/invite-client';
import type { DialReserved } from '../../server/sip/media-bridge';
import { one, type SipRequest } from '../../server/sip/message';
import { respondTo, wiredInviteClient } from '../helpers/sip-response';

const T1 = 100;
const RING = 10_000;
const ROOM_IP = '10.0.0.2';
const ADDRESS = `sip:room@${ROOM_IP}:5062`;

const OFFER: DialOffer = {
  ip: '10.0.0.1',
  origin: { id: 77, version: 1 },
  audio: { port: 40000, rtcpPort: 40001, payloadTypes: { opus: 100, G722: 9, PCMU: 0, PCMA: 8 } },
};
const crlf = (lines: string[]) => `${lines.join('\r\n')}\r\n`;
const ANSWER = crlf([
  'v=0',
  `o=room 5 5 IN IP4 ${ROOM_IP}`,
  's=-',
  `c=IN IP4 ${ROOM_IP}`,
  't=0 0',
  'm=audio 5000 RTP/AVP 9',
  'a=rtpmap:9 G722/8000',
  'a=recvonly',
]);

/** Lets every pending promise callback run (one real turn of the event loop); no fake time passes. */
const settle = async () => {
  await jest.advanceTimersByTimeAsync(0);
};

describe('dial-out: the monitor calls a room system', () => {
  let sent: { msg: SipRequest; to: string }[];
  let client: InviteClient;
  let statuses: DialStatus[];
  let adopted: { dialed: DialedCall; refused?: string }[];
  let hungUp: { callId: string; reason: string }[];
  let prepared: { cancelled: number };
  let mediaClosed: number;
  /** Held open until released: a hang-up may come while the call's media is being opened. */
  let openGate: Promise<void>;
  let adoptRefusal: { reason: string; status?: number } | undefined;
  let dialOut: DialOut;

  beforeEach(() => {
    jest.useFakeTimers();
    statuses = [];
    adopted = [];
    hungUp = [];
    prepared = { cancelled: 0 };
    mediaClosed = 0;
    openGate = Promise.resolve();
    adoptRefusal = undefined;
    ({ client, sent } = wiredInviteClient(T1, RING));
    const media: NonNullable<DialOutDeps['media']> = {
      prepareDial: async () => ({
        offer: OFFER,
        reserved: {} as DialReserved,
        cancel: () => (prepared.cancelled += 1),
      }),
      open: async (_call: SipCallRequest) => {
        await openGate;
        return { answer: '', close: () => (mediaClosed += 1) } as SipCallMedia;
      },
    };
    dialOut = new DialOut({
      config: { maxCalls: 2, plainRtpPoints: '*' },
      gateway: {
        invite: (req) => client.dial(req),
        adopt: (dialed, placed) => {
          adopted.push({ dialed, ...('refused' in placed ? { refused: placed.refused } : {}) });
          return 'refused' in placed ? undefined : adoptRefusal;
        },
        hangUp: (callId, reason) => hungUp.push({ callId, reason }),
        ownAddresses: () => ['10.0.0.1'],
        callOf: () => undefined,
        callCount: 0,
      },
      points: { get: async (id) => (/^p[123]$/.test(id) ? { sipAddress: ADDRESS } : undefined) },
      sessions: { openFor: async () => [{ id: 's1' }] },
      pageConnected: async () => false,
      media,
      status: (s) => statuses.push(s),
      logger: pino({ level: 'silent' }),
    });
  });

  afterEach(() => {
    client.close();
    jest.clearAllTimers();
    jest.useRealTimers();
  });

  const methods = () => sent.map((s) => s.msg.method);
  const states = () => statuses.map((s) => (s.status ? `${s.state} ${s.status}` : s.state));
  const invite = () => sent.find((s) => s.msg.method === 'INVITE')!.msg;

  const respond = respondTo;
  const answer200 = (to: SipRequest) => respond(to, 200, { body: ANSWER, contact: `<sip:room@${ROOM_IP}:5062>` });

  test('calling → ringing → connected: the INVITE goes to the checked address, the answer is adopted', async () => {
    const first = await dialOut.dial('s1', 'p1', undefined);
    expect(first).toEqual({ sessionId: 's1', pointId: 'p1', address: ADDRESS, state: 'calling' });
    expect(sent).toHaveLength(1);
    expect(sent[0]!.to).toBe(`${ROOM_IP}:5062`);
    expect(invite().uri).toBe(ADDRESS);
    client.onResponse(respond(invite(), 100));
    client.onResponse(respond(invite(), 180));
    client.onResponse(respond(invite(), 180));
    expect(states()).toEqual(['calling', 'ringing 180', 'ringing 180']);
    client.onResponse(answer200(invite()));
    await settle();
    expect(methods()).toEqual(['INVITE', 'ACK']);
    expect(states()).toEqual(['calling', 'ringing 180', 'ringing 180', 'connected']);
    expect(adopted).toHaveLength(1);
    expect(adopted[0]!.refused).toBeUndefined();
    expect(adopted[0]!.dialed.answer).toBe(ANSWER);
    // The call is the monitor's: hanging up ends it through the gateway; its end is reported once.
    dialOut.hangUp('s1', 'p1');
    expect(hungUp).toEqual([{ callId: adopted[0]!.dialed.callId, reason: 'hung up from the monitor' }]);
    const request = { callId: adopted[0]!.dialed.callId, sessionId: 's1', pointId: 'p1' } as SipCallRequest;
    dialOut.ended(request);
    dialOut.ended(request);
    expect(states().slice(-2)).toEqual(['connected', 'ended']);
    expect(prepared.cancelled).toBe(0);
  });

  test('a refusal (486 Busy Here) fails the call with its status; the point may be called again', async () => {
    await dialOut.dial('s1', 'p1', undefined);
    client.onResponse(respond(invite(), 180));
    client.onResponse(respond(invite(), 486));
    await settle();
    expect(methods()).toEqual(['INVITE', 'ACK']);
    expect(states()).toEqual(['calling', 'ringing 180', 'failed 486']);
    expect(statuses.at(-1)!.message).toContain('486');
    expect(adopted).toEqual([]);
    expect(prepared.cancelled).toBe(1);
    await expect(dialOut.dial('s1', 'p1', undefined)).resolves.toMatchObject({ state: 'calling' });
  });

  test('one call per point at a time; nothing to hang up once it failed', async () => {
    await dialOut.dial('s1', 'p1', undefined);
    await expect(dialOut.dial('s1', 'p1', undefined)).rejects.toMatchObject({ code: 'conflict' });
    client.onResponse(respond(invite(), 603));
    await settle();
    expect(() => dialOut.hangUp('s1', 'p1')).toThrow(AppError);
    expect(methods()).toEqual(['INVITE', 'ACK']);
  });

  test('hung up before any response: no CANCEL until a provisional one; the 2xx that crosses it is ended with BYE', async () => {
    await dialOut.dial('s1', 'p1', undefined);
    dialOut.hangUp('s1', 'p1');
    await settle();
    expect(states()).toEqual(['calling', 'failed 487']);
    expect(prepared.cancelled).toBe(1);
    jest.advanceTimersByTime(T1);
    expect(methods()).toEqual(['INVITE', 'INVITE']); // the INVITE goes again; a CANCEL may not yet
    client.onResponse(respond(invite(), 100));
    expect(methods()).toEqual(['INVITE', 'INVITE', 'CANCEL']);
    // The room system answered before it saw the CANCEL: acknowledged, then hung up at once.
    client.onResponse(answer200(invite()));
    await settle();
    expect(methods()).toEqual(['INVITE', 'INVITE', 'CANCEL', 'ACK', 'BYE']);
    const bye = sent.at(-1)!;
    expect(bye.to).toBe(`${ROOM_IP}:5062`);
    expect(one(bye.msg, 'call-id')).toBe(one(invite(), 'call-id'));
    // Never connected, never adopted: the monitor heard only the failure.
    expect(adopted).toEqual([]);
    expect(states()).toEqual(['calling', 'failed 487']);
  });

  test('hung up while ringing: CANCEL at once, the 487 acknowledged', async () => {
    await dialOut.dial('s1', 'p1', undefined);
    client.onResponse(respond(invite(), 180));
    dialOut.hangUp('s1', 'p1');
    expect(methods()).toEqual(['INVITE', 'CANCEL']);
    client.onResponse(respond(sent[1]!.msg, 200, { cseq: '1 CANCEL' }));
    client.onResponse(respond(invite(), 487));
    await settle();
    expect(methods()).toEqual(['INVITE', 'CANCEL', 'ACK']);
    expect(states()).toEqual(['calling', 'ringing 180', 'failed 487']);
  });

  test('hung up while the answered call opens its media: ended (adopted as refused, media closed), failed 487', async () => {
    let release!: () => void;
    openGate = new Promise((resolve) => (release = resolve));
    await dialOut.dial('s1', 'p1', undefined);
    client.onResponse(answer200(invite()));
    await settle();
    dialOut.hangUp('s1', 'p1');
    release();
    await settle();
    expect(adopted).toHaveLength(1);
    expect(adopted[0]!.refused).toBe('hung up from the monitor');
    expect(mediaClosed).toBe(1);
    expect(states()).toEqual(['calling', 'failed 487']);
  });

  test('ringing past the ring time: cancelled, failed 408', async () => {
    await dialOut.dial('s1', 'p1', undefined);
    client.onResponse(respond(invite(), 180));
    jest.advanceTimersByTime(RING - 1);
    await settle();
    expect(methods()).toEqual(['INVITE']);
    expect(states()).toEqual(['calling', 'ringing 180']);
    jest.advanceTimersByTime(1);
    await settle();
    expect(methods()).toEqual(['INVITE', 'CANCEL']);
    expect(states()).toEqual(['calling', 'ringing 180', 'failed 408']);
    expect(prepared.cancelled).toBe(1);
  });

  test('no response at all in 64 T1: failed 408, never a CANCEL', async () => {
    await dialOut.dial('s1', 'p1', undefined);
    jest.advanceTimersByTime(64 * T1);
    await settle();
    expect(methods().every((m) => m === 'INVITE')).toBe(true);
    expect(states()).toEqual(['calling', 'failed 408']);
  });

  test('the gateway refuses the answered call: failed with its status, not connected', async () => {
    adoptRefusal = { reason: 'the gateway holds 2 calls already', status: 503 };
    await dialOut.dial('s1', 'p1', undefined);
    client.onResponse(answer200(invite()));
    await settle();
    expect(states()).toEqual(['calling', 'failed 503']);
    expect(() => dialOut.hangUp('s1', 'p1')).toThrow(AppError);
  });

  test('refused before any packet: a loopback address, an unknown point, the call limit', async () => {
    await expect(dialOut.dial('s1', 'p1', 'sip:room@127.0.0.1')).rejects.toMatchObject({
      code: 'forbidden',
      reason: 'sip_target_refused',
    });
    await expect(dialOut.dial('s1', 'nope', undefined)).rejects.toMatchObject({ code: 'not_found' });
    await dialOut.dial('s1', 'p1', undefined);
    await dialOut.dial('s1', 'p2', undefined);
    await expect(dialOut.dial('s1', 'p3', undefined)).rejects.toMatchObject({ code: 'limit_exceeded' });
    expect(sent.map((s) => s.to)).toEqual([`${ROOM_IP}:5062`, `${ROOM_IP}:5062`]);
    expect(statuses).toHaveLength(2);
  });
});
