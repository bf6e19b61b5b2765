// The live broadcast's Socket.IO side: the `/point` and `/host` namespaces around the
// sessions on the air. Built once per process by the orchestrator.
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { WorkerPool } from '../../sfu';
import type { IceServer } from '../contract/broadcast';
import type { ControlPlane } from '../assembly/control-plane';
import { setupHostNamespace } from './host-namespace';
import { LiveBroadcasts } from './live-broadcasts';
import type { ClusterPort } from './cluster-port';
import { LiveStateStore } from './live-state';
import type { OnAir } from './on-air';
import { setupPointNamespace } from './point-namespace';
import { PointModes } from './point-modes';
import type { PointAttendance } from './point-attendance';
import type { DeskTalk } from './desk-talk';
import type { SocketNamespaces } from './sockets';
import { NO_RECORDING, Recordings } from '../recording/recordings';
import { StreamIngests, type StreamProtocol } from '../ingest/stream-ingest';
import { WhipIngests } from '../ingest/whip-ingest';
import { WhipTokens } from '../ingest/whip-tokens';
import { roomOf } from './live-session';
import { DigestAuth } from '../sip/digest';
import { NO_SIP_MEDIA, SipGateway, type SipConfig } from '../sip/gateway';
import { SourceLimit } from '../sip/source-limit';
import { SipFloorBridge, type SipFloorPort } from '../sip/floor-bridge';
import { HallMediaBridge } from '../sip/media-bridge';
import { captionFont } from '../sip/hall-caption';
import { SipCallHealth } from '../sip/call-health';
import { DialOut } from '../sip/dial-out';
import { attachDialRequests, dialStatusTo } from './desk-dial';
import type { Config, RecordingConfig } from '../config';

export interface RealtimeDeps {
  namespaces: Pick<SocketNamespaces, 'point' | 'host' | 'monitor'>;
  control: ControlPlane;
  pool: WorkerPool;
  redis: Redis;
  logger: Logger;
  /** Attendance: what each point reports, and the monitor's record of its media. */
  attendance: PointAttendance;
  delegatesReported?: (sessionId: string) => Promise<number>;
  /** Recording of live sessions (server/recording); off on a node without media workers. */
  recording: RecordingConfig;
  /** The other nodes: SINGLE_NODE, or the cluster's links (server/cluster). */
  cluster: ClusterPort;
  /** The sessions on the air, which the broadcast fills. */
  onAir: OnAir;
  /** Where a finished recording's archive is asked for (server/jobs/archive-jobs.ts). */
  archives?: { queueArchive(sessionId: string): Promise<unknown> };
  /** TURN relays handed to each page with its transports (server/net/turn.ts). */
  iceServers?: (peerId: string) => IceServer[];
  /** The base URL encoders reach (the WHIP URL the console shows). */
  baseUrl: () => string;
  /** SRT and RTMP listeners' ports and address. */
  streamIngest: Config['streamIngest'];
  /** The text channel between the desk and the points. */
  talk: DeskTalk;
  /** Room systems dialling in over SIP; undefined: off. */
  sip?: SipConfig | undefined;
  /** Video producers' key-frame request window (ms); undefined: the SFU's default. */
  keyFrameRequestDelayMs?: number;
  /** Whether a page of the point is connected in the session (the monitor's tile): a call to it is refused. */
  pointConnected?: (sessionId: string, pointId: string) => Promise<boolean>;
}

export interface Realtime {
  broadcasts: LiveBroadcasts;
  /** WHIP publishers of the hall; its router is mounted by the orchestrator. */
  whip: WhipIngests;
  srt: StreamIngests;
  rtmp: StreamIngests;
  /** The SIP gateway (SIP_PORT set); its socket opens with the orchestrator's listen(). */
  sip: SipGateway | undefined;
  store: LiveStateStore;
  close: () => Promise<void>;
}

export function attachRealtime(deps: RealtimeDeps): Realtime {
  const logger = deps.logger.child({ component: 'realtime' });
  const store = new LiveStateStore(deps.redis);
  const recordings =
    deps.recording.enabled && deps.pool.slots.length > 0
      ? new Recordings({
          config: deps.recording,
          ip: deps.pool.ingestListenIp,
          timeline: (sessionId) => deps.control.timeline.store.list(sessionId),
          onStopped: (sessionId) =>
            void deps.archives
              ?.queueArchive(sessionId)
              .catch((err: unknown) => logger.error({ err, sessionId }, 'could not queue the archive')),
          onDisk: ({ sessionId, level, freeBytes }) => {
            if (level === 'ok') {
              void deps.attendance
                .recordingDiskResolved(sessionId)
                .catch((err: unknown) => logger.error({ err, sessionId }, 'could not resolve the disk alert'));
              return;
            }
            void deps.attendance
              .recordingDiskAlert(sessionId, level, freeBytes)
              .catch((err: unknown) => logger.error({ err, sessionId }, 'could not raise the disk alert'));
            // Recording stopped: the host console's badge goes off.
            if (level === 'full')
              void broadcasts
                .peek(sessionId)
                ?.then((live) => live.pushView())
                .catch((err: unknown) =>
                  logger.warn({ err, sessionId }, 'could not push the view after the disk filled'),
                );
          },
          logger,
        })
      : NO_RECORDING;
  const { point: pointNs, host: hostNs } = deps.namespaces;
  const broadcasts = new LiveBroadcasts({
    pool: deps.pool,
    control: deps.control,
    store,
    logger,
    attendance: deps.attendance,
    pointNs,
    hostNs,
    delegatesReported: deps.delegatesReported ?? (async () => 0),
    recording: recordings,
    cluster: deps.cluster,
    onAir: deps.onAir,
    sipCodecs: deps.sip !== undefined,
    keyFrameRequestDelayMs: deps.keyFrameRequestDelayMs,
    sipFloor: (): SipFloorPort | undefined => sipFloor,
  });
  const { iceServers } = deps;
  const modes = new PointModes(deps.redis, pointNs);
  setupPointNamespace(pointNs, {
    control: deps.control,
    attendance: deps.attendance,
    broadcasts,
    store,
    modes,
    talk: deps.talk,
    logger,
    iceServers,
  });
  const hostsOf = (sessionId: string) => hostNs.local.to(roomOf.hosts(sessionId));
  // An encoder's listener lives as long as its session's room.
  const watched = new WeakSet<object>();
  const streams = (protocol: StreamProtocol, ports: [number, number]): StreamIngests => {
    const ingests: StreamIngests = new StreamIngests({
      protocol,
      room: async (sessionId) => {
        const room = await (await broadcasts.get(sessionId)).requireRoom();
        if (!watched.has(room)) {
          watched.add(room);
          room.once('closed', () => {
            srt.close(sessionId);
            rtmp.close(sessionId);
          });
        }
        return room;
      },
      ffmpegPath: deps.recording.ffmpegPath,
      listenIp: deps.streamIngest.listenIp,
      ports,
      publicHost: () => new URL(deps.baseUrl()).hostname,
      logger,
      changed: (sessionId, status) => hostsOf(sessionId).emit(protocol, status),
    });
    return ingests;
  };
  const srt = streams('srt', deps.streamIngest.srtPorts);
  const rtmp = streams('rtmp', deps.streamIngest.rtmpPorts);
  const whip = new WhipIngests({
    room: async (sessionId) => (await broadcasts.get(sessionId)).requireRoom(),
    tokens: new WhipTokens(deps.redis),
    baseUrl: deps.baseUrl,
    logger,
    changed: (sessionId, status) => hostsOf(sessionId).emit('whip', status),
  });
  setupHostNamespace(hostNs, {
    control: deps.control,
    broadcasts,
    logger,
    iceServers,
    whip,
    srt,
    rtmp,
    talk: deps.talk,
  });
  // Room systems over SIP: media only where workers run (a control node answers 503).
  const sipMedia =
    deps.sip && deps.pool.slots.length > 0
      ? new HallMediaBridge({
          live: async (sessionId) => {
            const live = await broadcasts.get(sessionId);
            return {
              room: await live.requireRoom(),
              hallChoice: () => live.liveState.hall,
              caption: () => live.caption(),
            };
          },
          ffmpegPath: deps.recording.ffmpegPath,
          captionFont: captionFont(deps.sip.caption, logger),
          ip: deps.pool.ingestListenIp,
          listen: {
            ip: deps.sip.listenIp,
            ...(deps.sip.announcedIp && deps.sip.announcedIp !== deps.sip.listenIp
              ? { announcedIp: deps.sip.announcedIp }
              : {}),
          },
          logger,
        })
      : undefined;
  const sipHealth = deps.sip && new SipCallHealth({ attendance: deps.attendance, logger });
  let dialOut: DialOut | undefined;
  const sip =
    deps.sip &&
    new SipGateway({
      config: deps.sip,
      points: deps.control.points,
      sessions: deps.control.sessions,
      pins: deps.control.links,
      media: sipMedia ?? NO_SIP_MEDIA,
      digest: new DigestAuth(),
      invites: new SourceLimit({ perMinute: deps.sip.invitesPerMinute, burst: deps.sip.inviteBurst }),
      datagrams: new SourceLimit({ perMinute: 1200, burst: 200 }),
      logger,
      ...(sipHealth
        ? {
            calls: {
              started: (call, media) => sipHealth.started(call, media),
              ended: (call, reason) => {
                sipHealth.ended(call, reason);
                dialOut?.ended(call);
              },
            },
          }
        : {}),
    });
  if (sip && deps.sip) {
    dialOut = new DialOut({
      config: deps.sip,
      gateway: sip,
      points: deps.control.points,
      sessions: deps.control.sessions,
      pageConnected: deps.pointConnected ?? (() => Promise.resolve(false)),
      media: sipMedia,
      status: dialStatusTo(deps.namespaces.monitor),
      logger,
    });
  }
  attachDialRequests(deps.namespaces.monitor, dialOut, logger);
  const sipFloor: SipFloorPort | undefined = sip && new SipFloorBridge({ calls: sip, logger });
  const close = async () => {
    sip?.close();
    sipMedia?.closeAll();
    sipHealth?.close();
    whip.closeAll();
    srt.closeAll();
    rtmp.closeAll();
    // Recorders first, so their last segments are written before the rooms close.
    await recordings.close();
    await broadcasts.close();
  };
  return { broadcasts, whip, srt, rtmp, sip, store, close };
}
