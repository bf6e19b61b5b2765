// The floor given to a room system over SIP: its grant waits for the re-INVITE answer, and
// a grant or take-back made meanwhile wins (the room system goes back to sendonly and the
// stale grant is refused); a call that ends before it takes the floor takes the floor back.
import { EventEmitter } from 'node:events';
import pino from 'pino';
import type { BroadcastRoom } from '../../sfu';
import type { BroadcastView } from '../../server/contract/broadcast';
import { FloorGrant } from '../../server/realtime/floor-grant';
import { SipFloorBridge, type SipFloorPort } from '../../server/sip/floor-bridge';

class FakeRoom extends EventEmitter {
  floorHolder: string | undefined;
  closed = false;
  addViewer(): void {}
  grantFloor(peerId: string): void {
    this.floorHolder = peerId;
    this.emit('floorGranted', { peerId });
  }
  revokeFloor(): void {
    const peerId = this.floorHolder;
    if (!peerId) return;
    this.floorHolder = undefined;
    this.emit('floorRevoked', { peerId });
  }
}

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((res) => (resolve = res));
  return { promise, resolve };
}

function floorOf(sip: SipFloorPort, room: FakeRoom): FloorGrant {
  const floor = new FloorGrant({
    sessionId: 's',
    cluster: { remoteFloor: async () => false, floorGranted: async () => undefined, floorEnded: () => undefined },
    room: () => room as unknown as BroadcastRoom,
    requireRoom: async () => room as unknown as BroadcastRoom,
    live: () => true,
    servesPoint: (pointId) => pointId === 'WEB',
    sip: () => sip,
    lowerHand: async () => undefined,
    pushView: async () => ({}) as BroadcastView,
    tell: () => undefined,
    holderChanged: () => undefined,
  });
  floor.watch(room as unknown as BroadcastRoom);
  return floor;
}

describe('the floor of a room system over SIP', () => {
  let asked: ReturnType<typeof deferred>;
  let calls: string[];
  let sip: SipFloorPort;

  beforeEach(() => {
    asked = deferred();
    calls = [];
    sip = {
      serves: (_s, pointId) => pointId === 'SIP',
      prepare: async (_s, pointId) => {
        calls.push(`prepare ${pointId}`);
        await asked.promise;
      },
      granted: (_s, pointId) => calls.push(`granted ${pointId}`),
      revoked: (_s, pointId) => calls.push(`revoked ${pointId}`),
    };
  });

  test('a take-back while the room system is asked to send wins over the grant', async () => {
    const room = new FakeRoom();
    const floor = floorOf(sip, room);
    const grant = floor.grant('SIP');
    await new Promise((res) => setImmediate(res));
    await floor.revoke();
    asked.resolve();
    await expect(grant).rejects.toMatchObject({ code: 'conflict', reason: 'changed_meanwhile' });
    expect(room.floorHolder).toBeUndefined();
    expect(calls).toEqual(['prepare SIP', 'revoked SIP']);
  });

  test('a grant to another point meanwhile wins over it', async () => {
    const room = new FakeRoom();
    const floor = floorOf(sip, room);
    const grant = floor.grant('SIP');
    await new Promise((res) => setImmediate(res));
    await floor.grant('WEB');
    asked.resolve();
    await expect(grant).rejects.toMatchObject({ reason: 'changed_meanwhile' });
    expect(room.floorHolder).toBe('WEB');
    expect(calls).toEqual(['prepare SIP', 'revoked SIP']);
  });

  test('the same ordered from another node: a take-back meanwhile wins', async () => {
    const room = new FakeRoom();
    const floor = floorOf(sip, room);
    const grant = floor.ordered('SIP', true);
    await new Promise((res) => setImmediate(res));
    await floor.ordered('SIP', false);
    asked.resolve();
    await expect(grant).rejects.toMatchObject({ reason: 'changed_meanwhile' });
    expect(room.floorHolder).toBeUndefined();
    expect(calls).toEqual(['prepare SIP', 'revoked SIP']);
  });

  test('the same grant twice while the room system is asked to send is one grant', async () => {
    const room = new FakeRoom();
    const floor = floorOf(sip, room);
    const first = floor.grant('SIP');
    await new Promise((res) => setImmediate(res));
    const again = floor.grant('SIP');
    asked.resolve();
    await expect(first).resolves.toBeDefined();
    await expect(again).resolves.toBeDefined();
    expect(room.floorHolder).toBe('SIP');
    expect(calls).toEqual(['prepare SIP', 'granted SIP']);
  });

  test('without anything meanwhile the room system takes the floor', async () => {
    const room = new FakeRoom();
    const floor = floorOf(sip, room);
    asked.resolve();
    await floor.grant('SIP');
    expect(room.floorHolder).toBe('SIP');
    expect(calls).toEqual(['prepare SIP', 'granted SIP']);
  });
});

describe('the SIP floor bridge', () => {
  test('a call that ended before it took the floor has the floor taken back', () => {
    const redirected: string[] = [];
    const bridge = new SipFloorBridge({
      calls: {
        callOf: () => undefined,
        redirect: async (callId, direction) => {
          redirected.push(`${callId} ${direction}`);
          return '';
        },
      },
      logger: pino({ level: 'silent' }),
    });
    const failed = jest.fn();
    bridge.granted('s', 'SIP', failed);
    expect(failed).toHaveBeenCalledWith(expect.objectContaining({ reason: 'point_not_connected' }));
    expect(redirected).toEqual([]);
  });
});
