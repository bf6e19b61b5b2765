import type { RecordingManifest, RecordingTrack } from '../../server/contract/recording';
import { archivePlan, chaptersOf, ffmetadata, hallSpans, layout, programOf } from '../../server/recording/archive-plan';

const T0 = Date.parse('2022-01-18T01:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const track = (
  id: string,
  source: RecordingTrack['source'],
  codec: string,
  from: number,
  to: number,
): RecordingTrack => ({
  id,
  source,
  kind: codec.startsWith('video') ? 'video' : 'audio',
  codec,
  producerId: `p-${id}`,
  pointId: null,
  startedAt: at(from),
  endedAt: at(to),
  restarts: 0,
  segments: [{ file: `${id}/seg-00000.webm`, bytes: 10, sha256: '0'.repeat(64), seconds: 2 }],
});
const manifest = (tracks: RecordingTrack[]): RecordingManifest => ({
  version: 1,
  sessionId: 's1',
  title: 'Hội nghị',
  state: 'stopped',
  startedAt: at(0),
  stoppedAt: at(100),
  updatedAt: at(100),
  segmentSeconds: 6,
  tracks,
  gaps: [],
  timeline: [
    { type: 'state', at: at(-60), from: 'scheduled', to: 'lobby', by: 'system' },
    { type: 'state', at: at(0), from: 'lobby', to: 'live', by: 'admin' },
    { type: 'agenda', at: at(0), index: 0, itemId: 'a', title: 'Nghị quyết 05-NQ/TU', speaker: 'A' },
    { type: 'agenda', at: at(40), index: 1, itemId: 'b', title: 'Nghị quyết 08-NQ/TU', speaker: 'B' },
    { type: 'state', at: at(100), from: 'live', to: 'ended', by: 'admin' },
  ],
});

/** The console's camera and microphone from the start, an encoder's from 20 s. */
const twoHalls = (): RecordingTrack[] => {
  const from = (origin: 'console' | 'whip', t: RecordingTrack): RecordingTrack => ({ ...t, origin });
  return [
    from('console', track('01-host-camera', 'host-camera', 'video/VP8', 0, 100)),
    from('console', track('02-host-mic', 'host-mic', 'audio/opus', 0, 100)),
    from('whip', track('03-host-camera', 'host-camera', 'video/VP8', 20, 100)),
    from('whip', track('04-host-mic', 'host-mic', 'audio/opus', 20, 100)),
  ];
};

describe('the archive plan', () => {
  test('a chapter per agenda item on the air, in ms from the start of the recording', () => {
    expect(chaptersOf(manifest([]))).toEqual([
      { title: '1. Nghị quyết 05-NQ/TU', startMs: 0, endMs: 40_000 },
      { title: '2. Nghị quyết 08-NQ/TU', startMs: 40_000, endMs: 100_000 },
    ]);
  });

  test('chapter titles are escaped for ffmetadata', () => {
    const text = ffmetadata('a=b;c', [{ title: '#1 x\\y', startMs: 0, endMs: 5 }]);
    expect(text).toBe(';FFMETADATA1\ntitle=a\\=b\\;c\n[CHAPTER]\nTIMEBASE=1/1000\nSTART=0\nEND=5\ntitle=\\#1 x\\\\y\n');
  });

  test('the hall fills the picture; with slides the two sit side by side, the floor inset', () => {
    expect(layout(false).hall).toEqual({ x: 0, y: 0, w: 1280, h: 720 });
    const both = layout(true);
    expect([both.hall.x + both.hall.w, both.slides.x]).toEqual([640, 640]);
    expect(both.floor.w).toBeLessThan(both.hall.w);
  });

  test('each track placed at its own start; originals copied; WebM unless a codec needs Matroska', () => {
    const tracks = [
      track('01-host-camera', 'host-camera', 'video/VP8', 0, 100),
      track('02-host-mic', 'host-mic', 'audio/opus', 0, 100),
      track('03-floor-camera', 'floor-camera', 'video/VP8', 50.5, 60),
    ];
    const plan = archivePlan(manifest(tracks), '/rec/s1');
    expect(plan.file).toBe('archive.webm');
    expect(plan.seconds).toBe(100);
    const graph = plan.args[plan.args.indexOf('-filter_complex') + 1]!;
    expect(graph).toContain('[2:v]setpts=PTS-STARTPTS+50.500/TB');
    expect(graph).toContain('overlay=x=0:y=0:eof_action=pass');
    expect(plan.args.join(' ')).toContain('-c:2 copy -metadata:s:2 title=01-host-camera');
    expect(plan.inputs.map((i) => i.file)).toContain('/rec/s1/.archive/chapters.txt');
    expect(plan.inputs[0]!.text).toBe("file '/rec/s1/01-host-camera/seg-00000.webm'\n");

    const h264 = archivePlan(manifest([track('01-host-camera', 'host-camera', 'video/H264', 0, 100)]), '/rec/s1');
    expect(h264.file).toBe('archive.mkv');
    const small = archivePlan(manifest(tracks), '/rec/s1', programOf(360));
    expect(small.args[small.args.indexOf('-filter_complex') + 1]).toContain('color=c=black:s=640x360');
    expect(() => archivePlan(manifest([]), '/rec/s1')).toThrow('nothing was recorded');
  });

  test('two hall sources: the program plays, per span, only the one the points received', () => {
    const tracks = twoHalls();
    const m = manifest(tracks);
    // The console before going live; the encoder takes over at 30 s, the host goes back to
    // the console at 70 s.
    m.timeline.push(
      { type: 'hall', at: at(-30), source: 'console' },
      { type: 'hall', at: at(30), source: 'whip' },
      { type: 'hall', at: at(70), source: 'console' },
    );
    expect(hallSpans(m, 100_000)).toEqual(
      new Map([
        [
          'console',
          [
            { from: 0, to: 30_000 },
            { from: 70_000, to: 100_000 },
          ],
        ],
        ['whip', [{ from: 30_000, to: 70_000 }]],
      ]),
    );
    const graph = archivePlan(m, '/rec/s1').args.join(' ');
    const consoleOn = 'gte(t,0.000)*lt(t,30.000)+gte(t,70.000)*lt(t,100.000)';
    const whipOn = 'gte(t,30.000)*lt(t,70.000)';
    // Each camera shown only while its source was the points'.
    expect(graph).toContain(`[v0][t0]overlay=x=0:y=0:eof_action=pass:enable='${consoleOn}'[v1]`);
    expect(graph).toContain(`[v1][t2]overlay=x=0:y=0:eof_action=pass:enable='${whipOn}'[v2]`);
    // Each microphone silent while the other source was: never two halls mixed.
    expect(graph).toContain(`adelay=0:all=1,volume=0:enable='not(${consoleOn})'[a1]`);
    expect(graph).toContain(`adelay=20000:all=1,volume=0:enable='not(${whipOn})'[a3]`);
    // Both kept as originals.
    expect(graph).toContain('-c:4 copy -metadata:s:4 title=03-host-camera');

    // An encoder warming up that the points never received: an original only, not in the program.
    const warmUp = manifest(tracks);
    warmUp.timeline.push({ type: 'hall', at: at(-30), source: 'console' });
    const g2 = archivePlan(warmUp, '/rec/s1').args;
    const filter = g2[g2.indexOf('-filter_complex') + 1]!;
    expect(filter).not.toContain('[2:v]');
    expect(filter).not.toContain('[3:a]');
    expect(filter).toContain('[silence][a1]amix=inputs=2');
    expect(g2.join(' ')).toContain('-map 2:0 -map 3:0');

    // A recording from before the timeline kept the hall's source: every track as before.
    expect(archivePlan(manifest(tracks), '/rec/s1').args.join(' ')).toContain('amix=inputs=3');
  });

  test('before the first hall entry every hall track is on air: the program never starts black', () => {
    // The first switch kept only 10 s in (a session live across a restart).
    const m = manifest(twoHalls());
    m.timeline.push({ type: 'hall', at: at(10), source: 'console' });
    expect(hallSpans(m, 100_000)).toEqual(
      new Map([
        ['console', [{ from: 0, to: 100_000 }]],
        ['whip', [{ from: 0, to: 10_000 }]],
      ]),
    );
    const graph = archivePlan(m, '/rec/s1').args.join(' ');
    // The hall shown and heard from 0 s.
    expect(graph).toContain(`[v0][t0]overlay=x=0:y=0:eof_action=pass:enable='gte(t,0.000)*lt(t,100.000)'[v1]`);
    expect(graph).toContain(`adelay=0:all=1,volume=0:enable='not(gte(t,0.000)*lt(t,100.000))'[a1]`);
    expect(graph).toContain(`[v1][t2]overlay=x=0:y=0:eof_action=pass:enable='gte(t,0.000)*lt(t,10.000)'[v2]`);
  });
});
