// `/host`: the host console, for logged-in hosts and admins. A socket attaches to one
// session at a time, publishes the hall's media into its room, and runs the briefing:
// go live, agenda, pauses, slides, the floor, end.
import type { Logger } from 'pino';
import type { BroadcastRoom } from '../../sfu';
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
import type { HostNamespace, HostSocket, HostSocketData } from './sockets';

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

type HostHandlers = Handlers<typeof hostRequests, HostSocketData>;

/** One console's socket as its handlers see it. */
interface Console {
  deps: HostNamespaceDeps;
  peerId: string;
  state: ConsoleState;
  log: Logger;
  actor: { username: string };
  /** The session this console is attached to; an error until `host:attach`. */
  attached: () => LiveSession;
  /** The attached session's room, with this console in it as a host. */
  room: () => Promise<BroadcastRoom>;
}

export function setupHostNamespace(ns: HostNamespace, deps: HostNamespaceDeps): void {
  const log = deps.logger.child({ component: 'host-ns' });
  ns.use(authenticateHost(deps.control));
  ns.on('connection', (socket) => {
    const c = openConsole(socket.data, deps, log);
    const handlers: HostHandlers = {
      ...attachHandlers(c, socket),
      ...rtcHandlers<HostSocketData>(
        {
          peerId: c.peerId,
          room: c.room,
          iceServers: deps.iceServers,
          // A camera or microphone published while paused starts paused.
          startPaused: (kind, source) =>
            (kind === 'video' && source === 'host-camera' && c.attached().liveState.pausedVideo) ||
            (kind === 'audio' && c.attached().liveState.pausedAudio),
        },
        c.state,
      ),
      ...briefingHandlers(c),
      ...ingestHandlers(c),
    };
    bindRequests(socket, hostRequests, handlers, socket.data, c.log);
    deps.talk.bindHost(socket, () => c.attached().sessionId, c.log);
    socket.on('disconnect', () => {
      for (const id of c.state.ingests ?? []) c.state.live?.room?.closeIngest(id);
      c.state.live?.detachHost(socket, c.peerId);
    });
  });
}

/** The handshake: a logged-in host or admin, by the session cookie. */
function authenticateHost(control: ControlPlane): Parameters<HostNamespace['use']>[0] {
  return (socket, next) => {
    control.auth.authenticateCookie(socket.request.headers.cookie).then(
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
  };
}

function openConsole(data: HostSocketData, deps: HostNamespaceDeps, log: Logger): Console {
  const state: ConsoleState = {};
  const attached = (): LiveSession => {
    if (!state.live || state.live.closed) {
      throw new AppError('conflict', 'attach to a session first (host:attach)', why('attach_first'));
    }
    return state.live;
  };
  return {
    deps,
    peerId: data.peerId,
    state,
    log: log.child({ user: data.user.username }),
    actor: { username: data.user.username },
    attached,
    room: async () => {
      const r = await attached().requireRoom();
      r.addHost(data.peerId);
      return r;
    },
  };
}

/** Attaching the console to a session (and leaving the one before). */
function attachHandlers(c: Console, socket: HostSocket): Pick<HostHandlers, 'host:attach'> {
  return {
    'host:attach': async ({ sessionId }) => {
      const live = await c.deps.broadcasts.get(sessionId);
      if (c.state.live && c.state.live !== live) c.state.live.detachHost(socket, c.peerId);
      c.state.live = live;
      live.attachHost(socket);
      return { view: await live.view(), hands: await live.hands.all(), numbers: await live.numbers() };
    },
  };
}

/** Running the briefing: go live, agenda, pauses, slides, recording, the floor, end. */
function briefingHandlers(
  c: Console,
): Pick<
  HostHandlers,
  | 'session:goLive'
  | 'session:end'
  | 'agenda:go'
  | 'media:pause'
  | 'slides:set'
  | 'recording:set'
  | 'floor:grant'
  | 'floor:revoke'
  | 'floor:mute'
> {
  const { deps, attached } = c;
  const act = async (action: 'start' | 'end'): Promise<BroadcastView> => {
    const live = attached();
    if (action === 'start')
      await deps.control.hallMedia.requireToStart(await deps.control.sessions.require(live.sessionId));
    await live.sessionChanged(await deps.control.sessions.act(live.sessionId, action, c.actor));
    return live.view();
  };
  return {
    'session:goLive': () => act('start'),
    'session:end': () => act('end'),
    'agenda:go': async ({ index }) => {
      const live = attached();
      if (live.session.state !== 'live') throw new AppError('not_open', 'the briefing is not live', why('not_live'));
      const count = live.session.agenda.length;
      if (index >= count) throw badRequest(`the agenda has ${count} items`, undefined, why('agenda_range', { count }));
      return live.setState({ agendaIndex: index });
    },
    'media:pause': async ({ kind, paused }) => {
      const live = attached();
      const r = live.room;
      const source = kind === 'video' ? 'host-camera' : 'host-mic';
      const producer = r?.getPeer(c.peerId)
        ? [...r.getPeer(c.peerId)!.producers.values()].find((p) => p.source === source)
        : undefined;
      if (r && producer) {
        // Paused at the SFU too, so points stop receiving rather than freezing.
        if (paused) await r.pauseProducer(c.peerId, producer.producer.id);
        else await r.resumeProducer(c.peerId, producer.producer.id);
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
      c.log.info({ sessionId: live.sessionId, on }, 'recording chosen');
      return live.setState({ recording: on });
    },
    'floor:grant': async ({ pointId }) => attached().floor.grant(pointId),
    'floor:revoke': async () => attached().floor.revoke(),
    'floor:mute': async ({ muted }) => {
      c.log.info({ sessionId: attached().sessionId, muted }, 'floor microphone muted from the console');
      return muteFloor(attached(), muted);
    },
  };
}

/** The hall's sources: plain RTP ingests, SRT and RTMP listeners, WHIP, and which one is on. */
function ingestHandlers(
  c: Console,
): Pick<
  HostHandlers,
  | 'ingest:plain'
  | 'hall:source'
  | 'ingest:srt'
  | 'ingest:rtmp'
  | 'whip:status'
  | 'whip:issue'
  | 'whip:stop'
  | 'ingest:close'
> {
  const { deps, attached, state } = c;
  const listener = async (ingests: HostNamespaceDeps['srt'], protocol: string, open: boolean | undefined) => {
    const { sessionId } = attached();
    if (open === undefined) return ingests.status(sessionId);
    c.log.info({ sessionId, protocol, open }, 'encoder listener asked');
    if (open) return ingests.open(sessionId);
    ingests.close(sessionId);
    return ingests.status(sessionId);
  };
  return {
    'ingest:plain': async ({ video, audio, rtcpMux }) => {
      const r = await c.room();
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
      c.log.info({ ingestId: info.ingestId, video: info.video?.port, audio: info.audio?.port }, 'plain ingest opened');
      return info;
    },
    'hall:source': async ({ source }) => {
      c.log.info({ source }, 'hall source chosen');
      return attached().chooseHall(source);
    },
    'ingest:srt': async ({ open }) => listener(deps.srt, 'srt', open),
    'ingest:rtmp': async ({ open }) => listener(deps.rtmp, 'rtmp', open),
    'whip:status': async () => deps.whip.status(attached().sessionId),
    'whip:issue': async () => {
      const { sessionId } = attached();
      c.log.info({ sessionId }, 'WHIP token issued from the console');
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
}
