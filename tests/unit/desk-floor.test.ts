// The monitor's floor controls when the live room cannot be looked up: the failure is
// logged and answered as an internal error, never passed off as a briefing not on the air.
import { Writable } from 'node:stream';
import pino from 'pino';
import { DeskFloorControl } from '../../server/realtime/desk-floor';
import type { OnAirView } from '../../server/realtime/on-air';

function logged(): { logger: pino.Logger; lines: Array<{ msg: string; sessionId?: string }> } {
  const lines: Array<{ msg: string; sessionId?: string }> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as { msg: string });
      done();
    },
  });
  return { logger: pino({ level: 'warn' }, sink), lines };
}

describe('DeskFloorControl', () => {
  const failing = {
    peek: () => Promise.reject(new Error('the room could not be built')),
  } as unknown as OnAirView;
  const offAir = { peek: () => undefined } as unknown as OnAirView;

  test('a failing room lookup is logged and answered as internal', async () => {
    const { logger, lines } = logged();
    const floor = new DeskFloorControl(failing, logger);
    await expect(floor.state('s1', 'host')).rejects.toMatchObject({ code: 'internal' });
    await expect(floor.grant('s1', 'host', 'HT-CX')).rejects.toMatchObject({ code: 'internal' });
    await expect(floor.mute('s1', 'admin', true)).rejects.toMatchObject({ code: 'internal' });
    await new Promise((res) => setImmediate(res));
    expect(lines.filter((l) => l.msg === 'could not look up the live room' && l.sessionId === 's1')).toHaveLength(3);
  });

  test('a briefing not on the air here is offline, and its floor cannot be changed', async () => {
    const { logger, lines } = logged();
    const floor = new DeskFloorControl(offAir, logger);
    expect(await floor.state('s1', 'technician')).toEqual({ state: 'offline', floor: null, mayControl: false });
    await expect(floor.revoke('s1', 'host')).rejects.toMatchObject({ code: 'not_open' });
    await expect(floor.revoke('s1', 'technician')).rejects.toMatchObject({ code: 'forbidden' });
    expect(lines).toEqual([]);
  });
});
