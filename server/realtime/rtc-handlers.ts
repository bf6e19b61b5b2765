// The `rtc:*` requests a page makes to send and receive media, for one peer of a room:
// the same for the host console and a point's page, apart from the hooks below.
import type { types as ms } from 'mediasoup';
import type { BroadcastRoom, MediaSource as SfuMediaSource } from '../../sfu';
import type { IceServer, MediaSource, RtcRequests } from '../contract/broadcast';
import { AppError } from '../errors';
import type { Handlers } from './requests';

/** The contract's media sources are the SFU's, no more and no fewer (sfu/ keeps its own copy). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const sourcesAgree: Same<MediaSource, SfuMediaSource> = true;
void sourcesAgree;

export interface RtcPeer {
  peerId: string;
  /** The session's room, with this peer in it where the request allows. */
  room: () => Promise<BroadcastRoom>;
  /** Called before a transport is created: e.g. a point joins as a viewer to receive. */
  beforeTransport?: (room: BroadcastRoom, direction: 'send' | 'recv') => void | Promise<void>;
  /** A receive transport was created; it replaced the page's previous one. */
  onRecvTransport?: (room: BroadcastRoom, transportId: string) => void;
  onConsumerResumed?: (consumerId: string, kind: 'audio' | 'video') => void;
  /** Start a new producer paused (the host paused camera or microphone before). */
  startPaused?: (kind: 'audio' | 'video', source: MediaSource) => boolean;
  /** TURN relays with fresh credentials, handed out with each transport (server/net/turn.ts). */
  iceServers?: (peerId: string) => IceServer[];
}

/** Kept per socket: the receive capabilities its page loaded (for consume) and its receive transport. */
export interface RtcSocketState {
  rtpCapabilities?: ms.RtpCapabilities;
  recvTransportId?: string;
}

export function rtcHandlers<Ctx>(peer: RtcPeer, state: RtcSocketState): Handlers<RtcRequests, Ctx> {
  const { peerId } = peer;
  return {
    'rtc:capabilities': async () => ({ routerRtpCapabilities: (await peer.room()).rtpCapabilities as never }),
    'rtc:createTransport': async ({ direction, rtpCapabilities }) => {
      const room = await peer.room();
      await peer.beforeTransport?.(room, direction);
      state.rtpCapabilities = rtpCapabilities as unknown as ms.RtpCapabilities;
      const params = await room.createWebRtcTransport(peerId, direction);
      if (direction === 'recv') {
        // One receive transport per page: a rebuilt one replaces the old, which gives its place back.
        if (state.recvTransportId) room.closeTransport(peerId, state.recvTransportId);
        state.recvTransportId = params.id;
        peer.onRecvTransport?.(room, params.id);
      }
      const iceServers = peer.iceServers?.(peerId) ?? [];
      return (iceServers.length ? { ...params, iceServers } : params) as never;
    },
    'rtc:connectTransport': async ({ transportId, dtlsParameters }) => {
      await (await peer.room()).connectTransport(peerId, transportId, dtlsParameters as never);
      return {};
    },
    'rtc:restartIce': async ({ transportId }) => ({
      iceParameters: (await (await peer.room()).restartIce(peerId, transportId)) as never,
    }),
    'rtc:consume': async ({ transportId, producerId }) => {
      if (!state.rtpCapabilities) throw new AppError('conflict', 'create a transport first');
      const c = await (await peer.room()).consume(peerId, transportId, producerId, state.rtpCapabilities);
      return {
        id: c.id,
        producerId: c.producerId,
        kind: c.kind,
        rtpParameters: c.rtpParameters as never,
        source: c.source,
      };
    },
    'rtc:resumeConsumer': async ({ consumerId }) => {
      const room = await peer.room();
      await room.resumeConsumer(peerId, consumerId);
      const kind = room.getPeer(peerId)?.consumers.get(consumerId)?.consumer.kind;
      if (kind) peer.onConsumerResumed?.(consumerId, kind);
      return {};
    },
    'rtc:produce': async ({ transportId, kind, rtpParameters, source }) => {
      const room = await peer.room();
      const paused = peer.startPaused?.(kind, source) ?? false;
      return room.produce(peerId, transportId, { kind, rtpParameters: rtpParameters as never, source, paused });
    },
    'rtc:closeProducer': async ({ producerId }) => {
      await (await peer.room()).closeProducer(peerId, producerId);
      return {};
    },
  };
}
