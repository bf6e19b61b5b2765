// Room systems receive the hall: baresip (Debian's) dials the SIP gateway from a network
// namespace of its own with the point's digest credentials and gets the hall's test
// pattern and tone, transcoded once for every room system of the session to H.264 and
// G.711 (or G.722) and sent over SRTP where it asked for it. baresip's own status line
// proves it: the audio and video bit rates it receives and the frame rate it decodes and
// displays. The monitor shows each as its point, connected, graded from the RTCP receiver
// reports the room system sends. A second room system shares the same transcoder; the
// last hang-up stops it. When the hall's source changes the transcoder follows it and
// the call stays up; a transcoder that dies (SIGKILL) is started again, the call still up.
// A briefing that closes hangs up its calls (BYE).
import pino from 'pino';
import request from 'supertest';
import type { MonitorDelta, MonitorSnapshot, PointTile } from '../../server/contract/attendance';
import { HallFeed } from '../../server/sip/hall-feed';
import { ask } from '../helpers/attendance';
import { connectSocket } from '../helpers/briefing';
import { callUp, receivesHall, startBaresip, type Baresip } from '../helpers/baresip';
import { netnsUnavailable, requireNetnsInCi } from '../helpers/netns';
import { waitFor } from '../helpers/orchestrator';
import { childrenWithArg } from '../helpers/procfs';
import { openTestHall, startSipServer, type SipServer, type TestHall } from '../helpers/sip-server';

const cannot = netnsUnavailable();

// The tests share one server and briefing, and the last one closes the briefing: a failed
// test is retried at once, not after the others (jest's default), when every call is refused.
// Each test's timeout (300 s) is above the sum of its waits, so no attempt runs on beside
// its retry.
jest.retryTimes(1, { logErrorsBeforeRetry: true, retryImmediately: true });

/** ffmpeg processes transcoding the hall for room systems (their input SDP lives in a sip-feed- folder). */
// The hall's transcoders this test's server started (its children), not another run's.
const transcoderPids = () => childrenWithArg(process.pid, 'sip-feed-');
const transcoders = () => transcoderPids().length;

(cannot ? describe.skip : describe)('SIP gateway: baresip receives the hall', () => {
  let s: SipServer;
  let hall: TestHall;
  const phones: Baresip[] = [];

  beforeAll(async () => {
    s = await startSipServer();
    hall = await openTestHall(s);
  }, 60_000);

  afterAll(async () => {
    for (const p of phones) await p.stop();
    hall?.sender.kill('SIGKILL');
    await s?.stop();
  });

  const dial = async (pointId: string, audioCodec: string, srtp: boolean) => {
    const phone = startBaresip({
      netns: s.net.name,
      localIp: s.net.pointIp,
      localPort: 5080 + phones.length * 2,
      target: s.target,
      user: pointId,
      password: await s.pinOf(pointId),
      audioCodec,
      srtp,
    });
    phones.push(phone);
    return phone;
  };

  /** A retried test starts with no call left from its failed attempt. */
  async function noCallsLeft(): Promise<void> {
    for (const p of phones.splice(0)) await p.stop();
    await waitFor(() => s.o.orchestrator.realtime.sip!.callCount === 0, 'no call left', 20_000);
  }

  /**
   * baresip's own status line: it receives the sound and decodes and displays the picture.
   * The hall's transcoder starts with the first call and must keep up its rates; on a loaded
   * machine that took 6-22 s after the call was up, once more than 30 s.
   */
  const receives = (phone: Baresip) => receivesHall(phone, 0, 60_000);

  test('a feed closed while its transcoder starts leaves no recording tap and no ffmpeg', async () => {
    const room = await (await s.o.orchestrator.realtime.broadcasts.get(s.b.sessionId)).requireRoom();
    let feed: HallFeed | undefined;
    let opened = 0;
    let closed = 0;
    const open = room.openRecordingTap.bind(room);
    const close = room.closeRecordingTap.bind(room);
    // The real taps, counted; the feed is closed the moment its first tap exists.
    room.openRecordingTap = async (...a) => {
      const tap = await open(...a);
      opened += 1;
      feed?.close();
      return tap;
    };
    room.closeRecordingTap = (tapId) => {
      closed += 1;
      close(tapId);
    };
    let asked = 0;
    try {
      feed = await HallFeed.start({
        room,
        // Nothing to send at start; the hall from the next reconcile on.
        hallProducers: () => (asked++ === 0 ? {} : { camera: hall.camera, mic: hall.mic }),
        ffmpegPath: 'ffmpeg',
        ip: s.net.hostIp,
        logger: pino({ level: 'silent' }),
      });
      await waitFor(() => opened >= 1 && closed === opened, 'the tap opened during close to be closed', 10_000);
      expect(opened).toBe(1);
      expect(transcoders()).toBe(0);
    } finally {
      room.openRecordingTap = open;
      room.closeRecordingTap = close;
      feed?.close();
    }
  }, 30_000);

  test('a room system with digest credentials gets H.264 and G.711 over plain RTP (allowed for it)', async () => {
    await noCallsLeft();
    const monitor = await connectSocket(s.o.baseUrl, '/monitor', { cookie: s.b.cookie, own: true });
    const tiles = new Map<string, PointTile>();
    monitor.on('delta', (d: MonitorDelta) => {
      for (const t of d.points) tiles.set(t.id, t);
    });
    const snap = await ask<MonitorSnapshot>(monitor, 'monitor:watch', { sessionId: s.b.sessionId });
    for (const t of snap.points) if (!tiles.has(t.id)) tiles.set(t.id, t);
    expect(tiles.get('HT-CX')?.connected).toBe(false);

    const phone = await dial('HT-CX', 'PCMU/8000/1', false);
    await callUp(phone, () => s.o.orchestrator.realtime.sip!.callCount === 1, 'the call to connect');
    await receives(phone);
    expect(phone.output()).toMatch(/Set audio decoder: PCMU 8000Hz/);
    expect(transcoders()).toBe(1);
    // On the monitor like any point: connected, and graded from its receiver reports.
    await waitFor(
      () => {
        const t = tiles.get('HT-CX');
        return t?.connected && t.status === 'good' && t.lossPct !== null && t.lossPct < 2 && t.rttMs !== null
          ? t
          : undefined;
      },
      'the monitor to show HT-CX connected and good, with under 2 % loss',
      // The grade needs the call's receiver reports over a few health windows; on a loaded
      // machine the first windows can grade the transcoded leg's jitter as degraded. The
      // status moves only after several windows agree, so one window's loss can be above 2 %
      // while the tile still says good: the loss is taken from a window that is below.
      45_000,
    );
    monitor.close();
  }, 300_000);

  test('a second one, over SRTP with G.722, shares the same transcoder; the last hang-up stops it', async () => {
    // Its own first call: a retried test finds none of its failed attempt's calls.
    await noCallsLeft();
    const first = await dial('HT-CX', 'PCMU/8000/1', false);
    await callUp(first, () => s.o.orchestrator.realtime.sip!.callCount === 1, 'the first call to connect');
    const phone = await dial('HT-HK', 'G722/8000/1', true);
    await callUp(phone, () => s.o.orchestrator.realtime.sip!.callCount === 2, 'the second call to connect');
    await receives(phone);
    expect(phone.output()).toMatch(/Set audio decoder: G722/);
    // HT-HK is not allowed plain RTP: the call is up and decoded only because SRTP was agreed.
    expect(transcoders()).toBe(1);
    for (const p of phones.splice(0)) await p.stop();
    await waitFor(() => s.o.orchestrator.realtime.sip!.callCount === 0, 'both calls to end (BYE)', 20_000);
    await waitFor(() => transcoders() === 0, 'the transcoder to stop', 10_000);
  }, 300_000);

  test("the hall's source changes: the transcoder follows it, the call stays up", async () => {
    await noCallsLeft();
    const phone = await dial('HT-CX', 'PCMU/8000/1', false);
    await callUp(phone, () => s.o.orchestrator.realtime.sip!.callCount === 1, 'the call to connect');
    await receives(phone);
    const before = transcoderPids();
    expect(before).toHaveLength(1);
    // The encoder stops and another starts: new producers, the same call.
    const room = await (await s.o.orchestrator.realtime.broadcasts.get(s.b.sessionId)).requireRoom();
    hall.sender.kill('SIGKILL');
    room.closeIngest(hall.ingestId);
    hall = await openTestHall(s);
    await decodesAgain(phone, before[0]!, 'the new source');
  }, 300_000);

  test('a transcoder that dies is started again: the call decodes the hall again', async () => {
    await noCallsLeft();
    const phone = await dial('HT-CX', 'PCMU/8000/1', false);
    await callUp(phone, () => s.o.orchestrator.realtime.sip!.callCount === 1, 'the call to connect');
    await receives(phone);
    const [pid] = transcoderPids();
    // A child of this test's own server, so no other run's.
    process.kill(pid!, 'SIGKILL');
    await decodesAgain(phone, pid!, 'the restarted transcoder');
  }, 300_000);

  /** A new transcoder (not `old`) runs and baresip decodes its output, its call still up; then it hangs up. */
  async function decodesAgain(phone: Baresip, old: number, what: string): Promise<void> {
    await waitFor(
      () => {
        const now = transcoderPids();
        return now.length === 1 && now[0] !== old;
      },
      `a new transcoder: ${what}`,
      40_000,
    );
    // A new transcoder first probes its input for up to 2 s, then starts from a key frame;
    // on a loaded machine baresip read the rates again up to 57 s after it started.
    await receivesHall(phone, phone.output().length, 90_000);
    expect(s.o.orchestrator.realtime.sip!.callCount).toBe(1);
    await phone.stop();
    // Gone already if a retry's noCallsLeft stopped it (this attempt outlived its timeout).
    const i = phones.indexOf(phone);
    if (i >= 0) phones.splice(i, 1);
    await waitFor(() => s.o.orchestrator.realtime.sip!.callCount === 0, 'the call to end', 20_000);
  }

  test('when the briefing closes, the gateway hangs up (BYE) and the transcoder stops', async () => {
    await noCallsLeft();
    const phone = await dial('HT-CX', 'PCMU/8000/1', false);
    await callUp(phone, () => s.o.orchestrator.realtime.sip!.callCount === 1, 'the call to connect');
    await receives(phone);
    const cancelled = await request(s.o.baseUrl)
      .post(`/api/v1/sessions/${s.b.sessionId}/cancel`)
      .set('Cookie', s.b.cookie);
    expect(cancelled.status).toBe(200);
    await waitFor(() => s.o.orchestrator.realtime.sip!.callCount === 0, 'the call to end', 20_000);
    // baresip heard the BYE: it reports a call the other side closed as "Connection reset by peer".
    await waitFor(
      () => /session closed: Connection reset by peer/.test(phone.output()),
      'baresip to see the call closed by the gateway',
      20_000,
    );
    await waitFor(() => transcoders() === 0, 'the transcoder to stop', 10_000);
  }, 300_000);
});

requireNetnsInCi('SIP media to baresip', cannot);
