// The feeding side of origin → edge media (the origin, or an edge feeding another edge
// in a tree): an internal HTTP API an edge calls to
// open a PipeTransport pair for one session and pull producers through it, and Redis
// messages announcing the room's producers as they appear, close, pause and resume.
import express, { Router } from 'express';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { z } from 'zod';
import { OriginPipeEnd, isSfuError, type BroadcastRoom, type PipeListen } from '../../sfu';
import type { LiveBroadcasts } from '../realtime/live-broadcasts';
import { clusterChannels } from './keys';
import { requireInternal } from './internal-auth';

export const SrtpSchema = z.object({ cryptoSuite: z.string().max(64), keyBase64: z.string().max(256) });
export const EndpointSchema = z.object({
  ip: z.string().min(1).max(64),
  port: z.number().int().min(1).max(65535),
  srtpParameters: SrtpSchema.optional(),
});
const OpenSchema = z.object({ edgeNodeId: z.string().min(1).max(64), endpoint: EndpointSchema }).strict();
const ConsumeSchema = z.object({ producerId: z.string().min(1).max(128) }).strict();

/** Producer news on `cluster:producers:<session>`. */
export interface ProducerMessage {
  type: 'new' | 'closed' | 'paused' | 'resumed' | 'roomClosed';
  producerId?: string;
}

export class OriginPipes {
  readonly router: Router;
  readonly #pipes = new Map<string, { end: OriginPipeEnd; sessionId: string; edgeNodeId: string }>();
  readonly #log: Logger;

  constructor(
    private readonly o: {
      broadcasts: LiveBroadcasts;
      redis: Redis;
      logger: Logger;
      appSecret: string;
      listen: PipeListen;
      selfId: string;
    },
  ) {
    this.#log = o.logger.child({ component: 'origin-pipes' });
    const r = Router();
    r.use(requireInternal(o.appSecret), express.json({ limit: '64kb' }));
    r.post('/:sessionId/open', async (req, res) => {
      const body = OpenSchema.safeParse(req.body);
      if (!body.success) return void res.status(400).json({ code: 'bad_request', title: body.error.message });
      const sessionId = req.params.sessionId;
      try {
        const live = await o.broadcasts.get(sessionId);
        const room = await live.requireRoom();
        const end = await OriginPipeEnd.open(room, o.listen);
        await end.connect({ ...body.data.endpoint, srtpParameters: body.data.endpoint.srtpParameters as never });
        this.#pipes.set(end.id, { end, sessionId, edgeNodeId: body.data.edgeNodeId });
        end.transport.observer.once('close', () => this.#pipes.delete(end.id));
        this.#log.info({ sessionId, edge: body.data.edgeNodeId, transportId: end.id }, 'pipe to an edge opened');
        res.json({ transportId: end.id, endpoint: end.local, producers: room.listProducers() });
      } catch (err) {
        this.#fail(res, err);
      }
    });
    r.post('/:sessionId/:transportId/consume', async (req, res) => {
      const body = ConsumeSchema.safeParse(req.body);
      if (!body.success) return void res.status(400).json({ code: 'bad_request', title: body.error.message });
      const pipe = this.#pipes.get(req.params.transportId);
      if (!pipe || pipe.sessionId !== req.params.sessionId || pipe.end.closed)
        return void res.status(404).json({ code: 'not_found', title: 'no such pipe' });
      try {
        res.json(await pipe.end.consume(body.data.producerId));
      } catch (err) {
        this.#fail(res, err);
      }
    });
    r.delete('/:sessionId/:transportId', (req, res) => {
      const pipe = this.#pipes.get(req.params.transportId);
      if (pipe && pipe.sessionId === req.params.sessionId) pipe.end.close();
      res.status(204).end();
    });
    this.router = r;
  }

  #fail(res: express.Response, err: unknown): void {
    const code = isSfuError(err) ? err.code : 'unavailable';
    const status = code === 'not_found' ? 404 : code === 'bad_request' ? 400 : 503;
    this.#log.warn({ err }, 'pipe request failed');
    res.status(status).json({ code, title: (err as Error).message });
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
    room.on('closed', () => say({ type: 'roomClosed' }));
  }

  /** Closes the pipes of edges that stopped beating. */
  sweep(aliveNodeIds: Set<string>): void {
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
