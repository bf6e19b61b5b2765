// The feeding side of origin → edge media (the origin, or an edge feeding another edge
// in a tree): an internal HTTP API an edge calls to
// open a PipeTransport pair for one session and pull producers through it, and Redis
// messages announcing the room's producers as they appear, close, pause and resume.
import express, { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { PipeSender, type BroadcastRoom, type PipeEndpoint, type PipeListen } from '../../sfu';
import { MediaSourceSchema } from '../contract/broadcast';
import { AppError } from '../errors';
import type { LiveBroadcasts } from '../realtime/live-broadcasts';
import { clusterChannels } from './keys';
import { internalFailure, requireInternal } from './internal-auth';

export const SrtpSchema = z.object({ cryptoSuite: z.string().max(64), keyBase64: z.string().max(256) });
export const EndpointSchema = z.object({
  ip: z.string().min(1).max(64),
  port: z.number().int().min(1).max(65535),
  srtpParameters: SrtpSchema.optional(),
});
export const OpenSchema = z.object({ edgeNodeId: z.string().min(1).max(64), endpoint: EndpointSchema }).strict();

/**
 * Opens this node's end of a pipe on a live session's room and connects it to the calling
 * node's end (both directions: origin → edge feeds, edge → origin floor uplinks).
 */
export async function openPipeEnd<E extends { connect(remote: PipeEndpoint): Promise<void>; close(): void }>(
  broadcasts: Pick<LiveBroadcasts, 'get'>,
  sessionId: string,
  remote: z.infer<typeof EndpointSchema>,
  open: (room: BroadcastRoom) => Promise<E>,
): Promise<{ end: E; room: BroadcastRoom }> {
  const room = await (await broadcasts.get(sessionId)).requireRoom();
  const end = await open(room);
  try {
    await end.connect({ ...remote, srtpParameters: remote.srtpParameters as never });
  } catch (err) {
    end.close();
    throw err;
  }
  return { end, room };
}
const ConsumeSchema = z.object({ producerId: z.string().min(1).max(128) }).strict();

const CodecParams = z.record(z.string().max(64), z.union([z.string().max(512), z.number()]));
/** A pipe consumer's RTP parameters as mediasoup gives them (mediasoup checks them again). */
const RtpParametersSchema = z
  .object({
    mid: z.string().max(32).optional(),
    codecs: z
      .array(
        z
          .object({
            mimeType: z.string().max(64),
            payloadType: z.number().int().min(0).max(127),
            clockRate: z.number().int().positive(),
            channels: z.number().int().min(1).max(8).optional(),
            parameters: CodecParams.optional(),
            rtcpFeedback: z
              .array(z.object({ type: z.string().max(32), parameter: z.string().max(32).optional() }).strict())
              .max(16)
              .optional(),
          })
          .strict(),
      )
      .min(1)
      .max(8),
    headerExtensions: z
      .array(
        z
          .object({
            uri: z.string().max(256),
            id: z.number().int().min(1).max(255),
            encrypt: z.boolean().optional(),
            parameters: CodecParams.optional(),
          })
          .strict(),
      )
      .max(16)
      .optional(),
    encodings: z
      .array(
        z
          .object({
            ssrc: z.number().int().nonnegative().optional(),
            rid: z.string().max(32).optional(),
            codecPayloadType: z.number().int().min(0).max(127).optional(),
            rtx: z.object({ ssrc: z.number().int().nonnegative() }).strict().optional(),
            dtx: z.boolean().optional(),
            scalabilityMode: z.string().max(16).optional(),
            scaleResolutionDownBy: z.number().optional(),
            maxBitrate: z.number().optional(),
            maxFramerate: z.number().optional(),
          })
          .strict(),
      )
      .max(8)
      .optional(),
    rtcp: z
      .object({
        cname: z.string().max(256).optional(),
        reducedSize: z.boolean().optional(),
        mux: z.boolean().optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

/** What one node answers another about a producer it sends through a pipe (sfu PipedProducer). */
export const PipedProducerSchema = z
  .object({
    producerId: z.string().min(1).max(128),
    kind: z.enum(['audio', 'video']),
    rtpParameters: RtpParametersSchema,
    paused: z.boolean(),
    source: MediaSourceSchema,
    peerId: z.string().min(1).max(128),
  })
  .strict();

/**
 * Producer news on `cluster:producers:<node>:<session>`. `originRebuilt`: the room's origin
 * router moved to another worker (its worker died), so every pipe to it is gone and the
 * nodes it feeds open new ones.
 */
export interface ProducerMessage {
  type: 'new' | 'closed' | 'paused' | 'resumed' | 'roomClosed' | 'originRebuilt';
  producerId?: string;
}

export class OriginPipes {
  readonly router: Router;
  readonly #pipes = new Map<string, { end: PipeSender; sessionId: string; edgeNodeId: string }>();
  readonly #log: Logger;

  constructor(
    private readonly o: {
      broadcasts: Pick<LiveBroadcasts, 'get'>;
      redis: Redis;
      logger: Logger;
      token: string;
      listen: PipeListen;
      selfId: string;
    },
  ) {
    this.#log = o.logger.child({ component: 'origin-pipes' });
    const r = Router();
    r.use(requireInternal(o.token), express.json({ limit: '64kb' }));
    r.post('/:sessionId/open', async (req, res) => {
      const body = OpenSchema.parse(req.body);
      const sessionId = req.params.sessionId;
      try {
        const { end, room } = await openPipeEnd(o.broadcasts, sessionId, body.endpoint, (room) =>
          PipeSender.open(room, o.listen),
        );
        this.#pipes.set(end.id, { end, sessionId, edgeNodeId: body.edgeNodeId });
        end.transport.observer.once('close', () => this.#pipes.delete(end.id));
        this.#log.info({ sessionId, edge: body.edgeNodeId, transportId: end.id }, 'pipe to an edge opened');
        res.json({ transportId: end.id, endpoint: end.local, producers: room.listProducers() });
      } catch (err) {
        throw internalFailure(err, this.#log, 'pipe request failed');
      }
    });
    r.post('/:sessionId/:transportId/consume', async (req, res) => {
      const body = ConsumeSchema.parse(req.body);
      const pipe = this.#pipes.get(req.params.transportId);
      // pipe_gone, not not_found: the edge opens a new pipe rather than giving up on a producer.
      if (!pipe || pipe.sessionId !== req.params.sessionId || pipe.end.closed)
        throw new AppError('pipe_gone', 'no such pipe');
      try {
        res.json(await pipe.end.consume(body.producerId));
      } catch (err) {
        throw internalFailure(err, this.#log, 'pipe request failed');
      }
    });
    r.delete('/:sessionId/:transportId', (req, res) => {
      const pipe = this.#pipes.get(req.params.transportId);
      if (pipe && pipe.sessionId === req.params.sessionId) pipe.end.close();
      res.status(204).end();
    });
    this.router = r;
  }

  /** Announces the room's producers to the edges. */
  roomCreated(sessionId: string, room: BroadcastRoom): void {
    const say = (m: ProducerMessage) => {
      this.o.redis
        .publish(clusterChannels.producers(this.o.selfId, sessionId), JSON.stringify(m))
        .catch((err: unknown) => {
          this.#log.warn({ err, sessionId }, 'could not announce a producer change');
        });
    };
    room.on('newProducer', (p) => say({ type: 'new', producerId: p.producerId }));
    room.on('producerClosed', (p) => say({ type: 'closed', producerId: p.producerId }));
    room.on('producerPaused', (p) => say({ type: 'paused', producerId: p.producerId }));
    room.on('producerResumed', (p) => say({ type: 'resumed', producerId: p.producerId }));
    room.on('originRebuilt', () => say({ type: 'originRebuilt' }));
    room.on('closed', () => say({ type: 'roomClosed' }));
  }

  /** Closes the pipes of edges that stopped beating. */
  sweep(aliveNodeIds: ReadonlySet<string>): void {
    for (const [id, p] of this.#pipes) {
      if (!aliveNodeIds.has(p.edgeNodeId)) {
        this.#log.info({ sessionId: p.sessionId, edge: p.edgeNodeId }, 'closing the pipe of a gone edge');
        p.end.close();
        this.#pipes.delete(id);
      }
    }
  }

  /** Pipes per edge node, for the monitor. */
  count(): number {
    return this.#pipes.size;
  }

  close(): void {
    for (const p of this.#pipes.values()) p.end.close();
    this.#pipes.clear();
  }
}
