// WHIP (RFC 9725): an encoder (OBS 30+, a hardware encoder, a vision mixer's output)
// publishes a session's hall with one HTTP POST of its SDP offer, bearer token in hand.
// Its audio and video become the room's `host-mic` and `host-camera` on the origin router,
// consumed by the points like the host console's; DELETE on the resource it was given
// stops it. One WHIP publisher per session at a time.
import { randomUUID } from 'node:crypto';
import express, { Router, type Request } from 'express';
import type { Logger } from 'pino';
import { z } from 'zod';
import type { BroadcastRoom } from '../../sfu';
import type { WhipPublisher as WhipPublisherInfo, WhipStatus } from '../contract/broadcast';
import { AppError, conflict } from '../errors';
import { refuseAnnouncedOver } from '../http/api/route';
import { MAX_OFFER_BYTES, readWhipOffer, writeWhipAnswer } from './whip-sdp';
import { sameDigest, tokenDigest, type WhipTokens } from './whip-tokens';

export const WHIP_PREFIX = '/whip';

export interface WhipIngestDeps {
  /** The session's room, created if the session is in a media state (else `not_open`). */
  room: (sessionId: string) => Promise<BroadcastRoom>;
  tokens: WhipTokens;
  /** The base URL encoders reach this server on (PUBLIC_URL). */
  baseUrl: () => string;
  logger: Logger;
  /** Told when a session's publisher starts or stops (the host console shows it). */
  changed?: (sessionId: string, status: WhipStatus) => void;
}

interface Publisher {
  readonly info: WhipPublisherInfo;
  readonly peerId: string;
  readonly room: BroadcastRoom;
  /** The token it published with: DELETE needs the same, even after the session's token is rotated. */
  readonly tokenDigest: Buffer;
}

const Params = z.object({ sessionId: z.string().min(1).max(128) }).strict();
const ResourceParams = Params.extend({ resourceId: z.uuid() });

export class WhipIngests {
  readonly #deps: WhipIngestDeps;
  readonly #log: Logger;
  /** By session; `pending` while a POST is being answered, so a second one is refused. */
  readonly #bySession = new Map<string, Publisher | 'pending'>();

  constructor(deps: WhipIngestDeps) {
    this.#deps = deps;
    this.#log = deps.logger.child({ component: 'whip' });
  }

  status(sessionId: string): WhipStatus {
    const p = this.#bySession.get(sessionId);
    return {
      url: `${this.#deps.baseUrl()}${WHIP_PREFIX}/${encodeURIComponent(sessionId)}`,
      publisher: p && p !== 'pending' ? p.info : null,
    };
  }

  /** A new token for the session (the old one stops working), with the URL to use it on. */
  async issue(sessionId: string): Promise<WhipStatus & { token: string }> {
    const token = await this.#deps.tokens.issue(sessionId);
    this.#log.info({ sessionId }, 'WHIP token issued');
    return { ...this.status(sessionId), token };
  }

  async publish(sessionId: string, token: string, offerSdp: string): Promise<{ resourceId: string; answer: string }> {
    await this.#authorize(sessionId, token);
    if (this.#bySession.has(sessionId)) {
      throw conflict('another encoder is publishing this briefing over WHIP; stop it (DELETE) first');
    }
    this.#bySession.set(sessionId, 'pending');
    try {
      const room = await this.#deps.room(sessionId);
      const offer = readWhipOffer(offerSdp, room.rtpCapabilities);
      const resourceId = randomUUID();
      const peerId = `whip:${resourceId}`;
      room.addHost(peerId);
      try {
        const transport = await room.createWebRtcTransport(peerId, 'send');
        await room.connectTransport(peerId, transport.id, offer.dtlsParameters);
        for (const s of offer.streams) {
          const source = s.kind === 'video' ? 'host-camera' : 'host-mic';
          await room.produce(peerId, transport.id, { kind: s.kind, rtpParameters: s.rtpParameters, source });
        }
        const answer = writeWhipAnswer(offer, transport);
        const video = offer.streams.find((s) => s.kind === 'video');
        const publisher: Publisher = {
          info: {
            resourceId,
            kinds: offer.streams.map((s) => s.kind),
            videoLayers: video ? Math.max(1, video.rids.length) : 0,
            since: new Date().toISOString(),
          },
          peerId,
          room,
          tokenDigest: tokenDigest(token),
        };
        this.#bySession.set(sessionId, publisher);
        this.#watch(sessionId, publisher, transport.id);
        this.#log.info({ sessionId, ...publisher.info }, 'WHIP publisher connected');
        this.#deps.changed?.(sessionId, this.status(sessionId));
        return { resourceId, answer };
      } catch (err) {
        room.removePeer(peerId);
        throw err;
      }
    } catch (err) {
      if (this.#bySession.get(sessionId) === 'pending') this.#bySession.delete(sessionId);
      throw err;
    }
  }

  async stop(sessionId: string, resourceId: string, token: string): Promise<void> {
    const p = this.#bySession.get(sessionId);
    if (!p || p === 'pending' || p.info.resourceId !== resourceId) {
      throw new AppError('not_found', 'no such WHIP resource (it has stopped already?)');
    }
    if (!sameDigest(p.tokenDigest, tokenDigest(token))) throw new AppError('token_invalid', 'wrong bearer token');
    this.#end(sessionId, p, 'stopped by its encoder');
  }

  /** The host console stops whatever publishes the session over WHIP. */
  stopSession(sessionId: string): boolean {
    const p = this.#bySession.get(sessionId);
    if (!p || p === 'pending') return false;
    this.#end(sessionId, p, 'stopped from the host console');
    return true;
  }

  router(): Router {
    const router = Router();
    const sdpBody = refuseAnnouncedOver(MAX_OFFER_BYTES, express.text({ type: '*/*', limit: MAX_OFFER_BYTES }));
    router.post(`${WHIP_PREFIX}/:sessionId`, sdpBody, async (req, res) => {
      const { sessionId } = Params.parse(req.params);
      const token = bearer(req);
      if (!req.is('application/sdp')) throw new AppError('bad_request', 'the offer must be sent as application/sdp');
      const sdp = typeof req.body === 'string' ? req.body : '';
      const { resourceId, answer } = await this.publish(sessionId, token, sdp);
      res
        .status(201)
        .location(`${WHIP_PREFIX}/${encodeURIComponent(sessionId)}/${resourceId}`)
        .type('application/sdp')
        .send(answer);
    });
    router.delete(`${WHIP_PREFIX}/:sessionId/:resourceId`, async (req, res) => {
      const { sessionId, resourceId } = ResourceParams.parse(req.params);
      await this.stop(sessionId, resourceId, bearer(req));
      res.status(200).end();
    });
    // The answer carries every candidate of an ICE-lite server: no trickle, no ICE restart.
    router.patch(`${WHIP_PREFIX}/:sessionId/:resourceId`, (_req, res) => {
      res.status(405).set('Allow', 'DELETE').end();
    });
    return router;
  }

  closeAll(): void {
    for (const [sessionId, p] of [...this.#bySession]) if (p !== 'pending') this.#end(sessionId, p, 'shutting down');
  }

  async #authorize(sessionId: string, token: string): Promise<void> {
    if (!(await this.#deps.tokens.matches(sessionId, token))) {
      throw new AppError('token_invalid', 'wrong bearer token for this briefing (the host console issues it)');
    }
  }

  /** Its transport closing (worker death, the room closing) ends the publisher. */
  #watch(sessionId: string, p: Publisher, transportId: string): void {
    const peer = p.room.getPeer(p.peerId);
    const transport = peer?.transports.get(transportId)?.transport;
    const ended = () => {
      if (this.#bySession.get(sessionId) === p) this.#end(sessionId, p, 'its transport closed');
    };
    if (!peer || !transport || transport.closed) return ended();
    peer.once('close', ended);
    transport.observer.once('close', ended);
  }

  #end(sessionId: string, p: Publisher, why: string): void {
    if (this.#bySession.get(sessionId) !== p) return;
    this.#bySession.delete(sessionId);
    p.room.removePeer(p.peerId);
    this.#log.info({ sessionId, resourceId: p.info.resourceId, why }, 'WHIP publisher gone');
    this.#deps.changed?.(sessionId, this.status(sessionId));
  }
}

function bearer(req: Request): string {
  const m = /^Bearer ([A-Za-z0-9._~+/=-]{1,256})$/.exec(req.get('authorization') ?? '');
  if (!m) throw new AppError('unauthenticated', 'send the briefing’s WHIP token as Authorization: Bearer <token>');
  return m[1]!;
}
