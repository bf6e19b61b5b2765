// A call's media: the session's shared hall feed (hall-feed.ts, started by the first call
// and stopped after the last), and one leg per accepted stream from the feed to the room
// system's address. The call ends (the gateway sends BYE) when a leg stops for good or the
// session's room closes (the briefing ended). The room is watched once per session, for
// every call in it (a listener per event, not per call: a room may hold hundreds of calls).
import type { Logger } from 'pino';
import { randomInt } from 'node:crypto';
import type { BroadcastRoom, SipLegInfo, SipLegReservation, SipLegStats } from '../../sfu';
import type { AgendaCaption, HallChoice } from '../contract/broadcast';
import { AppError } from '../errors';
import { liveSource, pointProducers } from '../realtime/hall-source';
import { writeAnswer, type AnsweredStream } from './answer';
import type { DialOffer, DialStream } from './dial-sdp';
import { SIP_AUDIO_CODECS, type SipAudioCodec } from './offer';
import type { SipCallMedia, SipCallRequest, SipMediaBridge } from './gateway';
import { FloorFeed } from './floor-feed';
import { HallFeed } from './hall-feed';
import { captionText } from './hall-caption';

export interface HallMediaBridgeDeps {
  /** The session's room (opened if need be), the host's choice of the hall's source and the current agenda item. */
  live: (sessionId: string) => Promise<LiveHall>;
  ffmpegPath: string;
  /** The font of the agenda caption burned into the picture; undefined: no caption (SIP_CAPTION=off). */
  captionFont: string | undefined;
  /** Where the taps and the transcoder meet (the workers' ingest address). */
  ip: string;
  /** Where legs listen: the address room systems reach, or one announced as it. */
  listen: { ip: string; announcedIp?: string };
  logger: Logger;
}

export interface LiveHall {
  room: BroadcastRoom;
  hallChoice: () => HallChoice;
  caption: () => AgendaCaption | null;
}

/** A call's media as the monitor sees it (gateway → attendance). */
export interface SipCallMediaStats {
  audio?: SipLegStats;
  video?: SipLegStats;
  /** The audio codec's RTP clock (jitter is counted in it). */
  audioClockRate: number;
}

interface SharedFeed {
  readonly feed: Promise<HallFeed>;
  users: number;
  /** What each call does when one of its legs closes (by leg id), or when the room closes. */
  readonly legEnds: Map<string, () => void>;
  readonly roomEnds: Set<() => void>;
  /** Removes the room listeners this feed holds. */
  detach(): void;
}

/** A dial-out call's reserved legs, by stream (prepareDial). */
export interface DialReserved {
  audio: string;
  video: string;
}

const hasVideo = (call: SipCallRequest) => call.offer.video !== undefined;

export class HallMediaBridge implements SipMediaBridge {
  readonly #d: HallMediaBridgeDeps;
  readonly #log: Logger;
  readonly #feeds = new Map<string, SharedFeed>();

  constructor(deps: HallMediaBridgeDeps) {
    this.#d = deps;
    this.#log = deps.logger.child({ component: 'sip-media' });
  }

  /**
   * The media side of a call the gateway places, before it is answered: a leg's transport
   * per stream, listening, and our offer. `open(call, ended, reserved)` with the
   * answer completes them; `cancel` drops them if the call does not happen.
   */
  async prepareDial(
    sessionId: string,
    opts: { srtp: boolean },
  ): Promise<{ offer: DialOffer; reserved: DialReserved; cancel(): void }> {
    const { room } = await this.#d.live(sessionId);
    const reserve = () =>
      room.sip.reserveLeg({
        listen: this.#d.listen,
        ...(opts.srtp ? { srtpSuite: 'AES_CM_128_HMAC_SHA1_80' as const } : {}),
      });
    const legs: SipLegReservation[] = [];
    const cancel = () => {
      if (!room.closed) for (const l of legs) room.sip.closeLeg(l.reservedId);
    };
    try {
      legs.push(await reserve(), await reserve());
    } catch (err) {
      cancel();
      throw err;
    }
    const [a, v] = legs as [SipLegReservation, SipLegReservation];
    const stream = (l: SipLegReservation, codecs: readonly (SipAudioCodec | 'H264')[]): DialStream => ({
      port: l.port,
      rtcpPort: l.rtcpPort,
      payloadTypes: Object.fromEntries(codecs.map((c) => [c, l.payloadTypes[c]]).filter(([, pt]) => pt !== undefined)),
      ...(l.srtp ? { srtp: l.srtp } : {}),
    });
    return {
      offer: {
        ip: a.ip,
        origin: { id: randomInt(1, 2 ** 31), version: 1 },
        audio: stream(a, SIP_AUDIO_CODECS),
        video: stream(v, ['H264']),
      },
      reserved: { audio: a.reservedId, video: v.reservedId },
      cancel,
    };
  }

  async open(
    call: SipCallRequest,
    ended: (reason: string) => void,
    reserved?: DialReserved,
  ): Promise<SipCallMedia & { stats(): Promise<SipCallMediaStats> }> {
    const live = await this.#d.live(call.sessionId);
    const { room } = live;
    const shared = this.#acquire(call.sessionId, live);
    const feed = await this.#feedOf(shared);
    const legs: { kind: 'audio' | 'video'; leg: SipLegInfo }[] = [];
    let done = false;
    const onEnd = (reason: string) => () => {
      if (done) return;
      release();
      ended(reason);
    };
    const onLegClosed = onEnd('the hall media to this room system stopped');
    const onRoomClosed = onEnd('the briefing ended');
    let floor: FloorFeed | undefined;
    const inbound: string[] = [];
    /** Counts floor starts and stops: a start overtaken by a stop (or another start) undoes itself. */
    let floorGen = 0;
    const stopFloor = () => {
      floorGen += 1;
      floor?.close();
      floor = undefined;
      if (!room.closed) for (const id of inbound.splice(0)) room.sip.closeInbound(id);
    };
    const release = () => {
      if (done) return;
      done = true;
      // A call that ends takes its floor with it.
      const held = floor !== undefined;
      stopFloor();
      if (held && !room.closed && room.floorHolder === call.pointId) room.revokeFloor();
      for (const l of legs) shared.legEnds.delete(l.leg.legId);
      shared.roomEnds.delete(onRoomClosed);
      if (!room.closed) for (const l of legs) room.sip.closeLeg(l.leg.legId);
      this.#release(call.sessionId, shared);
    };
    const answered: AnsweredStream[] = [];
    try {
      const { audio, video } = call.offer;
      for (const [kind, s] of [
        ['audio', audio],
        ['video', video],
      ] as const) {
        if (!s) continue;
        const leg = await room.sip.openLeg({
          producerId: feed.producerOf(s.codec),
          listen: this.#d.listen,
          codec: s.codec,
          payloadType: s.payloadType,
          ip: s.ip,
          port: s.port,
          // A reserved leg (our offer) has RTCP on its own port: no rtcp-mux was offered.
          rtcpPort: reserved && s.rtcpMux ? s.port : s.rtcpPort,
          rtcpMux: reserved ? false : s.rtcpMux,
          ...(s.srtp ? { srtp: { suite: s.srtp.suite, keyBase64: s.srtp.keyBase64 } } : {}),
          ...(reserved ? { reserved: reserved[kind] } : {}),
        });
        legs.push({ kind, leg });
        answered.push({ offer: s, leg });
      }
    } catch (err) {
      release();
      throw err;
    } finally {
      // A reserved leg the answer did not accept (video refused) is not needed.
      if (reserved && !room.closed && !hasVideo(call)) room.sip.closeLeg(reserved.video);
    }
    // A leg closed while the others opened ends the call at once.
    if (room.closed || legs.some((l) => !room.sip.hasLeg(l.leg.legId))) {
      release();
      throw new AppError('unavailable', 'the hall media to this room system stopped at once');
    }
    for (const l of legs) shared.legEnds.set(l.leg.legId, onLegClosed);
    shared.roomEnds.add(onRoomClosed);
    for (const l of legs) if (l.kind === 'video') void room.sip.requestKeyFrame(l.leg.legId).catch(() => undefined);
    const id = randomInt(1, 2 ** 31);
    return {
      answer: writeAnswer(call.offer, answered, { direction: 'sendonly', origin: { id, version: 1 } }),
      describe: (direction, version) => writeAnswer(call.offer, answered, { direction, origin: { id, version } }),
      floor: {
        start: async (sending, failedLater) => {
          stopFloor();
          const gen = floorGen;
          const current = () => {
            if (done || gen !== floorGen) throw new AppError('conflict', 'the floor changed while it started');
          };
          const legOf = (kind: 'audio' | 'video') => legs.find((l) => l.kind === kind)?.leg.legId;
          const receive = async (
            kind: 'audio' | 'video',
            { ssrc, payloadType }: { ssrc: number; payloadType: number },
          ) => {
            const legId = legOf(kind);
            if (!legId) throw new AppError('unavailable', `the call has no ${kind} leg`);
            const id = await room.sip.receive(legId, ssrc, payloadType);
            inbound.push(id);
            current();
            return id;
          };
          const mic = await receive('audio', sending.audio);
          const camera = sending.video ? await receive('video', sending.video) : undefined;
          const started = await FloorFeed.start({
            room,
            pointId: call.pointId,
            camera,
            mic,
            ffmpegPath: this.#d.ffmpegPath,
            ip: this.#d.ip,
            logger: this.#log,
            gaveUp: failedLater,
          });
          if (done || gen !== floorGen) {
            started.close();
            current();
          }
          floor = started;
        },
        stop: stopFloor,
      },
      close: release,
      stats: async () => {
        const out: SipCallMediaStats = { audioClockRate: call.offer.audio.clockRate };
        if (done || room.closed) return out;
        for (const l of legs) {
          const s = await room.sip.legStats(l.leg.legId);
          if (s) out[l.kind] = s;
        }
        return out;
      },
    };
  }

  closeAll(): void {
    for (const [sessionId, f] of this.#feeds) {
      this.#feeds.delete(sessionId);
      f.detach();
      void f.feed.then((feed) => feed.close()).catch(() => undefined);
    }
  }

  /** The session's shared feed (started by its first call) and the room listeners every call shares. */
  #acquire(sessionId: string, { room, hallChoice, caption }: LiveHall): SharedFeed {
    let shared = this.#feeds.get(sessionId);
    if (!shared) {
      const font = this.#d.captionFont;
      const feed = HallFeed.start({
        room,
        hallProducers: () => {
          const producers = room.closed ? [] : room.listProducers();
          const reach = pointProducers(producers, liveSource(hallChoice(), producers));
          return {
            camera: reach.find((p) => p.source === 'host-camera')?.producerId,
            mic: reach.find((p) => p.source === 'host-mic')?.producerId,
          };
        },
        ffmpegPath: this.#d.ffmpegPath,
        ip: this.#d.ip,
        logger: this.#d.logger,
        caption: font ? { text: () => captionText(caption()), fontFile: font } : undefined,
      });
      const legEnds = new Map<string, () => void>();
      const roomEnds = new Set<() => void>();
      const onLegClosed = ({ legId }: { legId: string }) => legEnds.get(legId)?.();
      const onRoomClosed = () => {
        if (this.#feeds.get(sessionId) === current) this.#drop(sessionId, current);
        for (const end of [...roomEnds]) end();
      };
      room.on('sipLegClosed', onLegClosed);
      room.once('closed', onRoomClosed);
      const current: SharedFeed = {
        feed,
        users: 0,
        legEnds,
        roomEnds,
        detach: () => {
          room.off('sipLegClosed', onLegClosed);
          room.off('closed', onRoomClosed);
        },
      };
      shared = current;
      this.#feeds.set(sessionId, current);
      feed.catch((err: unknown) => {
        if (this.#feeds.get(sessionId) === current) {
          this.#feeds.delete(sessionId);
          current.detach();
        }
        this.#log.error({ err, sessionId }, 'could not start the hall feed for room systems');
      });
    }
    shared.users += 1;
    return shared;
  }

  #feedOf(shared: SharedFeed): Promise<HallFeed> {
    return shared.feed.catch((err: unknown) => {
      throw new AppError('unavailable', 'the hall cannot be sent to room systems now', { cause: err });
    });
  }

  #release(sessionId: string, shared: SharedFeed): void {
    shared.users -= 1;
    if (shared.users > 0 || this.#feeds.get(sessionId) !== shared) return;
    this.#drop(sessionId, shared);
  }

  /** The feed stops: its transcoder, its producers and its room listeners. */
  #drop(sessionId: string, shared: SharedFeed): void {
    this.#feeds.delete(sessionId);
    shared.detach();
    void shared.feed.then((f) => f.close()).catch(() => undefined);
  }
}
