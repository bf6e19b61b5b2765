// One page's media side (a point's or the host's) from Node: a real WebRTC receive
// transport (werift, tests/helpers/rtp-peer.ts), its consumers, and the news the page is
// pushed; counts the RTP each consumer's SSRC really brings.
import type { Socket } from 'socket.io-client';
import { requester, type AnyEvents, type Request } from '../../client/src/net/request';
import type { HostPushes, RtcReceiveRequests } from '../../server/contract/broadcast';
import type { PushEvents, RequestEvents } from '../../server/contract/socket';
import type { types as ms } from 'mediasoup';
import { receiveCapabilities, type Caps } from '../../scripts/loadgen/werift-link';
import { waitFor } from './orchestrator';
import { RtpPeer } from './rtp-peer';

type RemoteTransport = Parameters<RtpPeer['connect']>[0];

export type Source = 'host-camera' | 'host-mic' | 'floor-camera' | 'floor-mic';

/** What the room pushes to a page that receives (`rtc:republish` to the host only). */
type ReceivePushes = PushEvents<
  Pick<HostPushes, 'rtc:newProducer' | 'rtc:producerClosed' | 'rtc:consumerClosed' | 'rtc:reconnect' | 'rtc:republish'>
>;
type ReceiveRequests = RequestEvents<RtcReceiveRequests>;

/** A `/point` or `/host` socket, typed from the contract for what a receiving page sends and hears. */
export type ReceivingSocket = Socket<ReceivePushes & AnyEvents, ReceiveRequests>;

export interface Consumed {
  id: string;
  producerId: string;
  source: Source;
  ssrc: number | undefined;
  closed: boolean;
}

/** One page's media side (a point's or the host's): a receive transport, its consumers, the news it is pushed. */
export class MediaSide {
  peer = new RtpPeer();
  transportId = '';
  readonly consumed: Consumed[] = [];
  /** Producers this page was told of and not told closed (an id may come back: the floor re-sent). */
  readonly live = new Map<string, Source>();
  readonly closedProducers: string[] = [];
  reconnects = 0;
  republishes = 0;
  private readonly request: Request<ReceiveRequests>;

  constructor(
    readonly name: string,
    readonly socket: ReceivingSocket,
  ) {
    this.request = requester(socket);
    socket.on('rtc:newProducer', (p) => this.live.set(p.producerId, p.source as Source));
    socket.on('rtc:producerClosed', ({ producerId }) => {
      this.live.delete(producerId);
      this.closedProducers.push(producerId);
      for (const c of this.consumed) if (c.producerId === producerId) c.closed = true;
    });
    socket.on('rtc:consumerClosed', ({ consumerId }) => {
      for (const c of this.consumed) if (c.id === consumerId) c.closed = true;
    });
    socket.on('rtc:reconnect', () => this.reconnects++);
    socket.on('rtc:republish', () => this.republishes++);
  }

  async openRecv(): Promise<void> {
    await this.peer.close();
    this.peer = new RtpPeer();
    for (const c of this.consumed) c.closed = true;
    const { routerRtpCapabilities } = await this.request('rtc:capabilities', {});
    const t = await this.request('rtc:createTransport', {
      direction: 'recv',
      // The contract carries mediasoup's objects as they are; read here as mediasoup's types.
      rtpCapabilities: receiveCapabilities(routerRtpCapabilities as unknown as Caps, true),
    });
    this.transportId = t.id;
    await this.request('rtc:connectTransport', {
      transportId: t.id,
      dtlsParameters: await RtpPeer.dtlsParameters(),
    });
    await this.peer.connect(t as unknown as RemoteTransport);
  }

  async consume(producerId: string): Promise<Consumed> {
    const c = await this.request('rtc:consume', { transportId: this.transportId, producerId });
    const consumed: Consumed = {
      id: c.id,
      producerId,
      source: c.source as Source,
      ssrc: (c.rtpParameters as unknown as ms.RtpParameters).encodings?.[0]?.ssrc,
      closed: false,
    };
    this.consumed.push(consumed);
    await this.request('rtc:resumeConsumer', { consumerId: c.id });
    return consumed;
  }

  /** Waits for a `source` producer announced (or listed by `list`) and not consumed yet, and consumes it. */
  async consumeNew(source: Source, list?: () => Promise<{ producerId: string; source: string }[]>): Promise<Consumed> {
    const producerId = await waitFor(
      async () => {
        const open = (id: string) => this.consumed.some((c) => c.producerId === id && !c.closed);
        const known = [
          ...[...this.live].map(([producerId, s]) => ({ producerId, source: s })),
          ...(list ? await list() : []),
        ];
        return known.find((p) => p.source === source && !open(p.producerId))?.producerId;
      },
      `${this.name}: a ${source} producer to consume`,
      30_000,
      200,
    );
    return this.consume(producerId);
  }

  /** RTP that reached this page for the open consumers of `source`. */
  received(source: Source): { packets: number; bytes: number; lost: number } {
    let packets = 0;
    let bytes = 0;
    let lost = 0;
    for (const c of this.consumed) {
      if (c.source !== source || c.closed) continue;
      const n = this.peer.count(c.ssrc);
      packets += n.packets;
      bytes += n.bytes;
      lost += n.lost;
    }
    return { packets, bytes, lost };
  }

  /** Waits until each source has brought more than `minBytes` through its open consumers. */
  async receiving(sources: Source[], minBytes: Partial<Record<Source, number>> = {}): Promise<void> {
    const need = (s: Source) => minBytes[s] ?? (s.endsWith('camera') ? 20_000 : 3_000);
    await waitFor(
      () => sources.every((s) => this.received(s).bytes > need(s)),
      `${this.name} to receive ${sources.join(', ')} (${sources.map((s) => this.received(s).bytes).join(', ')} bytes so far)`,
      45_000,
      250,
    );
  }

  async close(): Promise<void> {
    await this.peer.close();
    this.socket.close();
  }
}
