// The origin's side of edge → origin media: the floor of a point served by an edge node.
// That edge opens one pipe per session here (internal API, node token) and hands over
// each floor producer; the origin's room adopts it, so the host console consumes it like
// a local floor, and the origin → edge pipes (origin-pipes.ts) carry it on to the other
// edges as they carry the host's. The edge side is floor-uplink.ts. A stream is adopted
// only for the point the floor was given to, from the node serving it (floor-grants.ts).
import express, { Router } from 'express';
import type { Logger } from 'pino';
import { PipeReceiver, type PipeListen } from '../../sfu';
import { FloorSourceSchema } from '../contract/broadcast';
import { AppError } from '../errors';
import type { LiveBroadcasts } from '../realtime/live-broadcasts';
import type { FloorGrants } from './floor-grants';
import { internalFailure, requireInternal } from './internal-auth';
import { OpenSchema, PipedProducerSchema, openPipeEnd } from './origin-pipes';

/** Only a point's floor comes up a pipe: an edge never speaks for the hall. */
const UplinkProducerSchema = PipedProducerSchema.extend({ source: FloorSourceSchema }).strict();

export class UplinkPipes {
  readonly router: Router;
  readonly #pipes = new Map<string, { end: PipeReceiver; sessionId: string; edgeNodeId: string }>();
  readonly #log: Logger;

  constructor(o: {
    broadcasts: Pick<LiveBroadcasts, 'get'>;
    logger: Logger;
    token: string;
    listen: PipeListen;
    grants: Pick<FloorGrants, 'get'>;
  }) {
    this.#log = o.logger.child({ component: 'uplink-pipes' });
    const r = Router();
    r.use(requireInternal(o.token), express.json({ limit: '64kb' }));
    const pipeOf = (req: express.Request) => {
      const pipe = this.#pipes.get(String(req.params.transportId));
      return pipe && pipe.sessionId === req.params.sessionId && !pipe.end.closed ? pipe : undefined;
    };
    r.post('/:sessionId/open', async (req, res) => {
      const body = OpenSchema.parse(req.body);
      const sessionId = req.params.sessionId;
      try {
        const { end } = await openPipeEnd(o.broadcasts, sessionId, body.endpoint, (room) =>
          PipeReceiver.open(room, o.listen),
        );
        const id = end.transport.id;
        this.#pipes.set(id, { end, sessionId, edgeNodeId: body.edgeNodeId });
        end.transport.observer.once('close', () => this.#pipes.delete(id));
        this.#log.info({ sessionId, edge: body.edgeNodeId, transportId: id }, 'pipe from an edge opened');
        res.json({ transportId: id, endpoint: end.local });
      } catch (err) {
        throw internalFailure(err, this.#log, 'uplink request failed');
      }
    });
    r.post('/:sessionId/:transportId/produce', async (req, res) => {
      const body = UplinkProducerSchema.parse(req.body);
      const pipe = pipeOf(req);
      // pipe_gone: the edge opens a new pipe (this one died with the origin's worker).
      if (!pipe) throw new AppError('pipe_gone', 'no such pipe');
      try {
        const grant = await o.grants.get(pipe.sessionId);
        if (grant?.pointId !== body.peerId || grant.nodeId !== pipe.edgeNodeId) {
          this.#log.warn(
            { sessionId: pipe.sessionId, edge: pipe.edgeNodeId, peerId: body.peerId, grant },
            'floor stream refused: that point does not hold the floor through that node',
          );
          throw new AppError('forbidden', 'that point does not hold the floor through that node');
        }
        await pipe.end.adopt({ ...body, rtpParameters: body.rtpParameters as never });
        this.#log.info(
          {
            sessionId: pipe.sessionId,
            edge: pipe.edgeNodeId,
            producerId: body.producerId,
            source: body.source,
          },
          'floor of a point on an edge adopted',
        );
        res.json({});
      } catch (err) {
        throw internalFailure(err, this.#log, 'uplink request failed');
      }
    });
    r.delete('/:sessionId/:transportId/:producerId', (req, res) => {
      pipeOf(req)?.end.drop(req.params.producerId);
      res.status(204).end();
    });
    r.delete('/:sessionId/:transportId', (req, res) => {
      pipeOf(req)?.end.close();
      res.status(204).end();
    });
    this.router = r;
  }

  /** Closes the pipes of edges that stopped beating: the floor they carried ends here too. */
  sweep(aliveNodeIds: ReadonlySet<string>): void {
    for (const p of [...this.#pipes.values()]) {
      if (!aliveNodeIds.has(p.edgeNodeId)) {
        this.#log.info({ sessionId: p.sessionId, edge: p.edgeNodeId }, 'closing the uplink of a gone edge');
        p.end.close();
      }
    }
  }

  close(): void {
    for (const p of [...this.#pipes.values()]) p.end.close();
    this.#pipes.clear();
  }
}
