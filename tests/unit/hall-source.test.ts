import { HallSwitch, liveSource, presentSources, reachesPoints } from '../../server/realtime/hall-source';

const cam = (peerId: string, id = `${peerId}-cam`) => ({
  producerId: id,
  source: 'host-camera',
  peerId,
  kind: 'video',
});
const mic = (peerId: string) => ({ producerId: `${peerId}-mic`, source: 'host-mic', peerId, kind: 'audio' });
const consoleCam = cam('host:abc');
const whipCam = cam('whip:1');
const ingestCam = cam('ingest-1');
const slides = { producerId: 'slides', source: 'host-screen', peerId: 'host:abc', kind: 'video' };
const floor = { producerId: 'floor', source: 'floor-camera', peerId: 'HT-CX', kind: 'video' };

describe('the hall source points receive', () => {
  test('auto prefers an encoder (WHIP, then an ingest) over the console', () => {
    expect(liveSource('auto', [consoleCam])).toBe('console');
    expect(liveSource('auto', [consoleCam, ingestCam])).toBe('ingest');
    expect(liveSource('auto', [consoleCam, ingestCam, whipCam])).toBe('whip');
    expect(liveSource('auto', [slides, floor])).toBeUndefined();
    expect(presentSources([whipCam, consoleCam, slides])).toEqual(['whip', 'console']);
  });

  test('a chosen source wins while it publishes, and falls back to auto when it does not', () => {
    expect(liveSource('console', [consoleCam, whipCam])).toBe('console');
    expect(liveSource('ingest', [consoleCam, whipCam])).toBe('whip');
  });

  test('slides, the floor and producers of unknown peers always reach the points', () => {
    for (const p of [slides, floor, cam('pipe-x')]) expect(reachesPoints(p, 'whip')).toBe(true);
    expect(reachesPoints(consoleCam, 'whip')).toBe(false);
    expect(reachesPoints(mic('host:abc'), 'console')).toBe(true);
  });

  test('a switch withdraws the old source from the points and announces the new one', () => {
    const producers = [consoleCam, mic('host:abc'), slides];
    let choice: 'auto' | 'console' = 'auto';
    const announced: string[] = [];
    const withdrawn: string[] = [];
    const closed: string[] = [];
    const room = {
      listProducers: () => producers,
      getPeer: (id: string) => ({
        consumerOf: (producerId: string) => (id === 'HT-CX' ? { consumer: { id: `c-${producerId}` } } : undefined),
      }),
      closeConsumer: (_peer: string, consumerId: string) => closed.push(consumerId),
    };
    const hall = new HallSwitch({
      room: () => room as never,
      choice: () => choice,
      pointPeers: () => ['HT-CX', 'HT-DT'],
      announce: (p) => announced.push(p.producerId),
      withdraw: (id) => withdrawn.push(id),
    });
    expect(hall.update(consoleCam as never)).toBe(true);
    expect(announced).toEqual(['host:abc-cam', 'host:abc-mic']);
    announced.length = 0;
    producers.push(whipCam);
    expect(hall.update(whipCam as never)).toBe(true);
    expect(hall.live).toBe('whip');
    expect(withdrawn).toEqual(['host:abc-cam', 'host:abc-mic']);
    expect(closed).toEqual(['c-host:abc-cam', 'c-host:abc-mic']);
    expect(announced).toEqual(['whip:1-cam']);
    // The encoder's microphone joins the live source: announced, nothing switches.
    announced.length = 0;
    const whipMic = mic('whip:1');
    producers.push(whipMic);
    expect(hall.update(whipMic as never)).toBe(false);
    expect(announced).toEqual(['whip:1-mic']);
    choice = 'console';
    withdrawn.length = 0;
    announced.length = 0;
    expect(hall.update()).toBe(true);
    expect(withdrawn).toEqual(['whip:1-cam', 'whip:1-mic']);
    expect(announced).toEqual(['host:abc-cam', 'host:abc-mic']);
    expect(hall.view()).toEqual({ choice: 'console', live: 'console', present: ['whip', 'console'] });
  });
});
