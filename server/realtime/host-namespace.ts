// `/host`: the host console, for logged-in hosts and admins. A socket attaches to one
// session at a time, publishes the hall's media into its room, and runs the briefing:
// go live, agenda, pauses, slides, the floor, end.
import type { Logger } from 'pino';
import { hostRequests, type BroadcastView, type IceServer } from '../contract/broadcast';
import type { ControlPlane } from '../assembly/control-plane';
import { AppError, badRequest, why } from '../errors';
import type { StreamIngests } from '../ingest/stream-ingest';
import type { WhipIngests } from '../ingest/whip-ingest';
import { muteFloor } from './desk-floor';
import type { DeskTalk } from './desk-talk';
import type { LiveBroadcasts } from './live-broadcasts';
import type { LiveSession } from './live-session';
import { bindRequests, type Handlers } from './requests';
import { rtcHandlers, type RtcSocketState } from './rtc-handlers';
import { handshakeError } from './socket-errors';
import type { HostNamespace, HostSocketData } from './sockets';

/** What one console holds while its socket lives. */
interface ConsoleState extends RtcSocketState {
  live?: LiveSession;
  /** Plain RTP ingests this console opened (closed with it). */
  ingests?: Set<string>;
}

/** Enough for a camera feed and a spare; each ingest holds two ports on the origin worker. */
const MAX_INGESTS_PER_CONSOLE = 2;

export interface HostNamespaceDeps {
  control: ControlPlane;
  broadcasts: LiveBroadcasts;
  logger: Logger;
  iceServers?: (peerId: string) => IceServer[];
  /** Encoders publishing the hall over WHIP: their token, status and stop. */
  whip: Pick<WhipIngests, 'status' | 'issue' | 'stopSession'>;
  /** SRT and RTMP listeners for an encoder, one of each per session. */
  srt: Pick<StreamIngests, 'status' | 'open' | 'close'>;
  rtmp: Pick<StreamIngests, 'status' | 'open' | 'close'>;
  /** The text channel with the points. */
  talk: DeskTalk;
}

export function setupHostNamespace(ns: HostNamespace, deps: HostNamespaceDeps): void {
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

  ns.on('connection', (socket) => {
    const data = socket.data;
    const state: ConsoleState = {};
    const hlog = log.child({ user: data.user.username });
    const actor = { username: data.user.username };
    const attached = (): LiveSession => {
      if (!state.live || state.live.closed) {
        throw new AppError('conflict', 'attach to a session first (host:attach)', why('attach_first'));
      }
      return state.live;
    };
    const room = async () => {
      const live = attached();
      const r = await live.requireRoom();
      r.addHost(data.peerId);
      return r;
    };
    const listener = async (ingests: HostNamespaceDeps['srt'], protocol: string, open: boolean | undefined) => {
      const { sessionId } = attached();
      if (open === undefined) return ingests.status(sessionId);
      hlog.info({ sessionId, protocol, open }, 'encoder listener asked');
      if (open) return ingests.open(sessionId);
      ingests.close(sessionId);
      return ingests.status(sessionId);
    };
    const act = async (action: 'start' | 'end'): Promise<BroadcastView> => {
      const live = attached();
      if (action === 'start')
        await deps.control.hallMedia.requireToStart(await deps.control.sessions.require(live.sessionId));
      await live.sessionChanged(await deps.control.sessions.act(live.sessionId, action, actor));
      return live.view();
    };

    const handlers: Handlers<typeof hostRequests, HostSocketData> = {
      'host:attach': async ({ sessionId }) => {
        const live = await deps.broadcasts.get(sessionId);
        if (state.live && state.live !== live) state.live.detachHost(socket, data.peerId);
        state.live = live;
        live.attachHost(socket);
        return { view: await live.view(), hands: await live.allHands(), numbers: await live.numbers() };
      },
      ...rtcHandlers<HostSocketData>(
        {
          peerId: data.peerId,
          room,
          iceServers: deps.iceServers,
          // A camera or microphone published while paused starts paused.
          startPaused: (kind, source) =>
            (kind === 'video' && source === 'host-camera' && attached().liveState.pausedVideo) ||
            (kind === 'audio' && attached().liveState.pausedAudio),
        },
        state,
      ),
      'session:goLive': () => act('start'),
      'session:end': () => act('end'),
      'agenda:go': async ({ index }) => {
        const live = attached();
        if (live.session.state !== 'live') throw new AppError('not_open', 'the briefing is not live', why('not_live'));
        const count = live.session.agenda.length;
        if (index >= count)
          throw badRequest(`the agenda has ${count} items`, undefined, why('agenda_range', { count }));
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
      'recording:set': async ({ on }) => {
        const live = attached();
        if (!['draft', 'scheduled', 'lobby'].includes(live.session.state)) {
          throw new AppError(
            'conflict',
            'recording can be turned on or off only before going live',
            why('recording_locked'),
          );
        }
        hlog.info({ sessionId: live.sessionId, on }, 'recording chosen');
        return live.setState({ recording: on });
      },
      'floor:grant': async ({ pointId }) => attached().grantFloor(pointId),
      'floor:revoke': async () => attached().revokeFloor(),
      'floor:mute': async ({ muted }) => {
        hlog.info({ sessionId: attached().sessionId, muted }, 'floor microphone muted from the console');
        return muteFloor(attached(), muted);
      },
      'ingest:plain': async ({ video, audio, rtcpMux }) => {
        const r = await room();
        const ingests = (state.ingests ??= new Set());
        for (const id of ingests) if (!r.hasIngest(id)) ingests.delete(id);
        if (ingests.size >= MAX_INGESTS_PER_CONSOLE) {
          throw new AppError(
            'conflict',
            `at most ${MAX_INGESTS_PER_CONSOLE} ingests per console; close one first`,
            why('ingest_limit', { max: MAX_INGESTS_PER_CONSOLE }),
          );
        }
        // listenIp: the room's default (the SFU's listen address, loopback for a wildcard).
        const info = await r.createPlainIngest({ video, audio, rtcpMux });
        ingests.add(info.ingestId);
        hlog.info({ ingestId: info.ingestId, video: info.video?.port, audio: info.audio?.port }, 'plain ingest opened');
        return info;
      },
      'hall:source': async ({ source }) => {
        hlog.info({ source }, 'hall source chosen');
        return attached().chooseHall(source);
      },
      'ingest:srt': async ({ open }) => listener(deps.srt, 'srt', open),
      'ingest:rtmp': async ({ open }) => listener(deps.rtmp, 'rtmp', open),
      'whip:status': async () => deps.whip.status(attached().sessionId),
      'whip:issue': async () => {
        const { sessionId } = attached();
        hlog.info({ sessionId }, 'WHIP token issued from the console');
        return deps.whip.issue(sessionId);
      },
      'whip:stop': async () => ({ stopped: deps.whip.stopSession(attached().sessionId) }),
      'ingest:close': async ({ ingestId }) => {
        if (!state.ingests?.has(ingestId)) throw new AppError('not_found', `ingest ${ingestId} is not yours`);
        state.ingests.delete(ingestId);
        state.live?.room?.closeIngest(ingestId);
        return {};
      },
    };
    bindRequests(socket, hostRequests, handlers, data, hlog);
    deps.talk.bindHost(socket, () => attached().sessionId, hlog);
    socket.on('disconnect', () => {
      for (const id of state.ingests ?? []) state.live?.room?.closeIngest(id);
      state.live?.detachHost(socket, data.peerId);
    });
  });
}
