// A room system over SIP holds the floor: baresip (Debian's) dials in from its own network
// namespace and receives the hall (answer sendonly); the host gives its point the floor,
// the gateway re-INVITEs it sendrecv, and what it sends (fakevideo's pattern in H.264, a
// tone in G.711) is transcoded by two ffmpeg, one to Opus and one to VP8, and reaches a
// point in the room (a real WebRTC receiver, werift) as the floor's camera and microphone.
// Taking the floor back closes those producers, stops both transcoders and re-INVITEs the
// room system to sendonly: it stops sending. A point that is not connected is refused with
// its code. The picture's transcoder stalled (SIGSTOP) holds up no sound: the point keeps
// receiving the floor's Opus. Killed (SIGKILL), it is started again: the floor's producers
// stay and the point receives the room system's picture again.
import type { types as ms } from 'mediasoup';
import { ask } from '../helpers/attendance';
import { callUp, receiving, sending, type Baresip } from '../helpers/baresip';
import { netnsUnavailable, requireNetnsInCi } from '../helpers/netns';
import { waitFor } from '../helpers/orchestrator';
import { childrenWithArg } from '../helpers/procfs';
import { RtpPeer } from '../helpers/rtp-peer';
import { startLiveSipFloor, type LiveSipFloor } from '../helpers/sip-floor';

const cannot = netnsUnavailable();

// The floor's transcoders this test's server started (its children), not another run's.
const audioTranscoders = () => childrenWithArg(process.pid, '/floor-audio.sdp');
const videoTranscoders = () => childrenWithArg(process.pid, '/floor-video.sdp');
const floorTranscoders = () => [...audioTranscoders(), ...videoTranscoders()];
const one = (pids: number[]) => (pids.length === 1 ? pids[0] : undefined);
// The floor's producers come first (server/sip/floor-feed.ts), then its transcoders, one
// after the other: the sound's once its tap is open (no media needed), the picture's once
// the sound's listens, which the server waits at most 5 s for before it ends the floor
// (waitListening in server/sip/hall-feed.ts). So, once the producers are there:
const SOUND_TRANSCODER_MS = 15_000; // a tap and a spawn, on a loaded machine
const PICTURE_TRANSCODER_MS = SOUND_TRANSCODER_MS + 5000; // and the sound's listening

(cannot ? describe.skip : describe)('SIP gateway: a room system holds the floor', () => {
  let live: LiveSipFloor;
  let phone: Baresip | undefined;
  const receivers: RtpPeer[] = [];

  beforeAll(async () => {
    live = await startLiveSipFloor();
  }, 60_000);

  afterAll(async () => {
    for (const r of receivers) await r.close();
    await live?.stop();
  });

  const floorProducers = () => live.floorProducers('HT-CX');

  /** A point in the room (werift), consuming the floor as it would a browser's. */
  let viewer: { peer: RtpPeer; transportId: string } | undefined;
  async function receiveFloor(): Promise<{ kind: string; mimeType: string; ssrc: number }[]> {
    const { room } = live;
    if (!viewer) {
      room.addViewer('HT-HK');
      const params = await room.createWebRtcTransport('HT-HK', 'recv');
      await room.connectTransport('HT-HK', params.id, await RtpPeer.dtlsParameters());
      const peer = new RtpPeer();
      receivers.push(peer);
      await peer.connect(params);
      viewer = { peer, transportId: params.id };
    }
    const caps: ms.RtpCapabilities = {
      codecs: (room.rtpCapabilities.codecs ?? []).filter((c) => /^(video\/VP8|audio\/opus)$/i.test(c.mimeType)),
      headerExtensions: room.rtpCapabilities.headerExtensions ?? [],
    };
    const consumed: { kind: string; mimeType: string; ssrc: number }[] = [];
    for (const p of floorProducers()) {
      const c = await room.consume('HT-HK', viewer.transportId, p.producerId, caps);
      await room.resumeConsumer('HT-HK', c.id);
      consumed.push({
        kind: c.kind,
        mimeType: c.rtpParameters.codecs[0]!.mimeType,
        ssrc: c.rtpParameters.encodings![0]!.ssrc!,
      });
    }
    return consumed;
  }
  const packets = (c: { ssrc: number }) => viewer?.peer.received.get(c.ssrc)?.packets ?? 0;

  test('a point with no call and no page cannot take the floor', async () => {
    await expect(ask(live.host, 'floor:grant', { pointId: 'HT-HK' })).rejects.toThrow(/not connected/);
  });

  test('the floor to baresip: its camera and microphone reach a point as VP8 and Opus; taken back, they stop', async () => {
    const { host, room } = live;
    const sip = live.s.o.orchestrator.realtime.sip!;
    // A retried attempt starts over: its call hung up, which ends its floor and transcoders.
    await phone?.stop();
    await waitFor(() => sip.callCount === 0 && floorTranscoders().length === 0, 'no call left', 20_000);
    phone = await live.dial('HT-CX');
    await callUp(phone, () => sip.callCount === 1, 'the call to connect');
    // The hall's transcoder starts with the first call; on a loaded machine it took 6-22 s
    // after the call was up to keep its rates, once more than 30 s.
    await waitFor(() => receiving(phone!.output()).videoBps > 50_000, 'baresip to receive the hall', 60_000, 1000);
    // Receive-only until it has the floor.
    expect(sending(phone.output())).toEqual({ audioBps: 0, videoBps: 0 });

    await ask(host, 'floor:grant', { pointId: 'HT-CX' });
    expect(room.floorHolder).toBe('HT-CX');
    await waitFor(() => floorProducers().length === 2, "the room system's floor producers", 30_000);
    await waitFor(() => one(audioTranscoders()), 'one floor audio transcoder', SOUND_TRANSCODER_MS);
    await waitFor(() => one(videoTranscoders()), 'one floor video transcoder', PICTURE_TRANSCODER_MS);

    // A point in the room receives them as it receives a browser's floor.
    const consumed = await receiveFloor();
    expect(consumed.map((c) => c.mimeType).sort()).toEqual(['audio/opus', 'video/VP8']);
    await waitFor(
      () => consumed.every((c) => packets(c) > (c.kind === 'video' ? 100 : 200)),
      "the point to receive the room system's VP8 and Opus",
      40_000,
      1000,
    );
    // baresip's status line is a rate over its last interval: it can read 0 at one instant.
    await waitFor(() => sending(phone!.output()).videoBps > 0, 'baresip to say it sends its picture', 10_000, 500);

    await ask(host, 'floor:revoke');
    expect(room.floorHolder).toBeUndefined();
    await waitFor(() => floorProducers().length === 0, 'the floor producers to close', 10_000);
    await waitFor(() => floorTranscoders().length === 0, 'both floor transcoders to stop', 10_000);
    // The re-INVITE to sendonly: baresip stops sending and still receives the hall.
    await waitFor(
      () => {
        const now = sending(phone!.output());
        return now.audioBps === 0 && now.videoBps === 0;
      },
      'baresip to stop sending',
      30_000,
      1000,
    );
    expect(sip.callCount).toBe(1);
    await waitFor(
      () => receiving(phone!.output()).videoBps > 50_000,
      'baresip to receive the hall still',
      30_000,
      1000,
    );
  }, 240_000);

  test("the picture's transcoder stalled holds up no sound; killed, it is started again", async () => {
    const { host, room } = live;
    const sip = live.s.o.orchestrator.realtime.sip!;
    if (room.floorHolder || sip.callCount !== 1) {
      // Left by a failed attempt (the floor held, or a change of the call under way): a new
      // call, once the hang-up has ended the old one, its floor and its transcoders.
      await phone?.stop();
      await waitFor(() => sip.callCount === 0 && floorTranscoders().length === 0, 'no call left', 20_000);
      phone = await live.dial('HT-CX');
      await callUp(phone, () => sip.callCount === 1, 'the call to connect');
      await waitFor(() => receiving(phone!.output()).videoBps > 50_000, 'baresip to receive the hall', 60_000, 1000);
    }
    await ask(host, 'floor:grant', { pointId: 'HT-CX' });
    await waitFor(() => floorProducers().length === 2, "the room system's floor producers", 30_000);
    const audioPid = await waitFor(() => one(audioTranscoders()), 'the floor audio transcoder', SOUND_TRANSCODER_MS);
    const videoPid = await waitFor(() => one(videoTranscoders()), 'the floor video transcoder', PICTURE_TRANSCODER_MS);
    const producers = floorProducers()
      .map((p) => p.producerId)
      .sort();
    const consumed = await receiveFloor();
    const audio = consumed.find((c) => c.kind === 'audio')!;
    const video = consumed.find((c) => c.kind === 'video')!;
    await waitFor(() => consumed.every((c) => packets(c) > 20), 'the floor media to flow', 40_000, 500);

    // The picture's ffmpeg stops (as an encode far behind real time would): the sound flows on.
    // Children of this test's own server (found by their SDP files), so no other run's.
    process.kill(videoPid, 'SIGSTOP');
    const settled = packets(audio) + 25; // the video packets already sent arrive meanwhile
    await waitFor(() => packets(audio) > settled, 'the floor sound to flow on', 20_000, 200);
    const stalled = { audio: packets(audio), video: packets(video) };
    await waitFor(
      () => packets(audio) > stalled.audio + 100,
      'the floor sound to flow while its picture is stalled',
      20_000,
      500,
    );
    expect(packets(video)).toBe(stalled.video);

    // Killed, the picture's ffmpeg is started again; the sound's was never touched.
    process.kill(videoPid, 'SIGKILL');
    const second = await waitFor(
      () => {
        const now = one(videoTranscoders());
        return now !== videoPid ? now : undefined;
      },
      'the floor video transcoder to start again',
      30_000,
    );
    expect(second).not.toBe(videoPid);
    expect(audioTranscoders()).toEqual([audioPid]);
    expect(room.floorHolder).toBe('HT-CX');
    // The producers stayed: the point's consumers receive the new transcoder's media.
    expect(
      floorProducers()
        .map((p) => p.producerId)
        .sort(),
    ).toEqual(producers);
    const before = consumed.map(packets);
    await waitFor(
      () => consumed.every((c, i) => packets(c) > before[i]! + (c.kind === 'video' ? 30 : 100)),
      "the point to receive the room system's picture again",
      40_000,
      500,
    );

    await ask(host, 'floor:revoke');
    await waitFor(() => floorTranscoders().length === 0, 'both floor transcoders to stop', 10_000);
  }, 150_000);
});

requireNetnsInCi('a room system holding the floor over SIP', cannot);
