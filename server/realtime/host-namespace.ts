// `/host`: the host console, for logged-in hosts and admins. A socket attaches to one
// session at a time, publishes the hall's media into its room, and runs the briefing:
// go live, agenda, pauses, slides, the floor, end.
import type { Namespace, Socket } from 'socket.io';
import type { Logger } from 'pino';
import type { types as ms } from 'mediasoup';
import { hostRequests, type BroadcastView } from '../contract/broadcast';
import type { ControlPlane } from '../control-plane';
import type { AuthUser } from '../auth/auth';
import { AppError, badRequest } from '../errors';
import type { LiveBroadcasts } from './live-broadcasts';
import type { LiveSession } from './live-session';
import { bindRequests, type Handlers } from './requests';
import { handshakeError } from './socket-errors';

export interface HostSocketData {
  user: AuthUser;
  /** This console's peer in the room (one per socket). */
  peerId: string;
  live?: LiveSession;
  rtpCapabilities?: ms.RtpCapabilities;
  /** Plain RTP ingests this console opened (closed with it). */
  ingests?: Set<string>;
}

/** Enough for a camera feed and a spare; each ingest holds two ports on the origin worker. */
const MAX_INGESTS_PER_CONSOLE = 2;

export interface HostNamespaceDeps {
  control: ControlPlane;
  broadcasts: LiveBroadcasts;
  logger: Logger;
}

export function setupHostNamespace(ns: Namespace, deps: HostNamespaceDeps): void {
  const log = deps.logger.child({ component: 'host-ns' });

  ns.use((socket, next) => {
    deps.control.auth.authenticateCookie(socket.request.headers.cookie).then(
      (user) => {
        if (!user) return next(handshakeError(new AppError('unauthenticated', 'log in first')));
        if (user.role !== 'host' && user.role !== 'admin') {
          return next(handshakeError(new AppError('forbidden', 'only hosts and admins run a briefing')));
        }
        socket.data = { user, peerId: `host:${socket.id}` } satisfies HostSocketData;
        next();
      },
      (err: unknown) => next(handshakeError(err)),
    );
  });

  ns.on('connection', (socket: Socket) => {
    const data = socket.data as HostSocketData;
    const hlog = log.child({ user: data.user.username });
    const actor = { username: data.user.username };
    const attached = (): LiveSession => {
      if (!data.live || data.live.closed) throw new AppError('conflict', 'attach to a session first (host:attach)');
      return data.live;
    };
    const room = async () => {
      const live = attached();
      const r = await live.requireRoom();
      r.addHost(data.peerId);
      return r;
    };
    const act = async (action: 'start' | 'end'): Promise<BroadcastView> => {
      const live = attached();
      await live.sessionChanged(await deps.control.sessions.act(live.sessionId, action, actor));
      return live.view();
    };

    const handlers: Handlers<typeof hostRequests, HostSocketData> = {
      'host:attach': async ({ sessionId }) => {
        const live = await deps.broadcasts.get(sessionId);
        if (data.live && data.live !== live) data.live.detachHost(socket, data.peerId);
        data.live = live;
        live.attachHost(socket);
        return { view: await live.view(), hands: live.hands(), numbers: await live.numbers() };
      },
      'rtc:capabilities': async () => ({ routerRtpCapabilities: (await room()).rtpCapabilities as never }),
      'rtc:createTransport': async ({ direction, rtpCapabilities }) => {
        const r = await room();
        data.rtpCapabilities = rtpCapabilities as unknown as ms.RtpCapabilities;
        return (await r.createWebRtcTransport(data.peerId, direction)) as never;
      },
      'rtc:connectTransport': async ({ transportId, dtlsParameters }) => {
        await (await room()).connectTransport(data.peerId, transportId, dtlsParameters as never);
        return {};
      },
      'rtc:restartIce': async ({ transportId }) => ({
        iceParameters: (await (await room()).restartIce(data.peerId, transportId)) as never,
      }),
      'rtc:consume': async ({ transportId, producerId }) => {
        if (!data.rtpCapabilities) throw new AppError('conflict', 'create a transport first');
        const c = await (await room()).consume(data.peerId, transportId, producerId, data.rtpCapabilities);
        return {
          id: c.id,
          producerId: c.producerId,
          kind: c.kind,
          rtpParameters: c.rtpParameters as never,
          source: c.source,
        };
      },
      'rtc:resumeConsumer': async ({ consumerId }) => {
        await (await room()).resumeConsumer(data.peerId, consumerId);
        return {};
      },
      'rtc:produce': async ({ transportId, kind, rtpParameters, source }) => {
        const r = await room();
        const live = attached();
        // A camera or microphone published while paused starts paused.
        const paused =
          (kind === 'video' && source === 'host-camera' && live.liveState.pausedVideo) ||
          (kind === 'audio' && live.liveState.pausedAudio);
        return r.produce(data.peerId, transportId, { kind, rtpParameters: rtpParameters as never, source, paused });
      },
      'rtc:closeProducer': async ({ producerId }) => {
        await (await room()).closeProducer(data.peerId, producerId);
        return {};
      },
      'session:goLive': () => act('start'),
      'session:end': () => act('end'),
      'agenda:go': async ({ index }) => {
        const live = attached();
        if (live.session.state !== 'live') throw new AppError('not_open', 'the briefing is not live');
        if (index >= live.session.agenda.length) throw badRequest(`the agenda has ${live.session.agenda.length} items`);
        return live.setState({ agendaIndex: index });
      },
      'media:pause': async ({ kind, paused }) => {
        const live = attached();
        const r = live.room;
        const source = kind === 'video' ? 'host-camera' : 'host-mic';
        const producer = r?.getPeer(data.peerId)
          ? [...r.getPeer(data.peerId)!.producers.values()].find((p) => p.source === source)
          : undefined;
        if (r && producer) {
          // Paused at the SFU too, so points stop receiving rather than freezing.
          if (paused) await r.pauseProducer(data.peerId, producer.producer.id);
          else await r.resumeProducer(data.peerId, producer.producer.id);
        }
        return live.setState(kind === 'video' ? { pausedVideo: paused } : { pausedAudio: paused });
      },
      'slides:set': async ({ on }) => attached().setState({ slidesOn: on }),
      'floor:grant': async ({ pointId }) => attached().grantFloor(pointId),
      'floor:revoke': async () => attached().revokeFloor(),
      'ingest:plain': async ({ video, audio, rtcpMux }) => {
        const r = await room();
        const ingests = (data.ingests ??= new Set());
        for (const id of ingests) if (!r.hasIngest(id)) ingests.delete(id);
        if (ingests.size >= MAX_INGESTS_PER_CONSOLE) {
          throw new AppError('conflict', `at most ${MAX_INGESTS_PER_CONSOLE} ingests per console; close one first`);
        }
        // listenIp: the room's default (the SFU's listen address, loopback for a wildcard).
        const info = await r.createPlainIngest({ video, audio, rtcpMux });
        ingests.add(info.ingestId);
        hlog.info({ ingestId: info.ingestId, video: info.video?.port, audio: info.audio?.port }, 'plain ingest opened');
        return info;
      },
      'ingest:close': async ({ ingestId }) => {
        if (!data.ingests?.has(ingestId)) throw new AppError('not_found', `ingest ${ingestId} is not yours`);
        data.ingests.delete(ingestId);
        data.live?.room?.closeIngest(ingestId);
        return {};
      },
    };
    bindRequests(socket, hostRequests, handlers, data, hlog);
    socket.on('disconnect', () => {
      for (const id of data.ingests ?? []) data.live?.room?.closeIngest(id);
      data.live?.detachHost(socket, data.peerId);
    });
  });
}
