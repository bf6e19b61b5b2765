// SessionEvents cross processes: every local event is published on one Redis channel,
// and every other node's message is emitted locally, so each process sees the state and
// agenda changes another made. The local emitter API stays as it is; a node skips its
// own messages, and an event re-emitted from the channel is not published again.
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { SessionEventMap, SessionEvents } from '../domain/sessions/events';
import { clusterChannels } from './keys';

const RELAYED: readonly (keyof SessionEventMap)[] = [
  'stateChanged',
  'agendaChanged',
  'sessionUpdated',
  'startReached',
  'overrun',
  'linkRevoked',
  'handsChanged',
  'floorOrder',
  'floorEnded',
  'liveChanged',
];

interface Envelope {
  from: string;
  name: keyof SessionEventMap;
  payload: unknown;
}

export class SessionEventRelay {
  /** Per process, so two nodes configured with the same NODE_ID still tell their messages apart. */
  readonly #instance = `${randomUUID()}`;
  #replaying = false;
  readonly #offs: (() => void)[] = [];

  private constructor(
    private readonly events: SessionEvents,
    private readonly pub: Redis,
    private readonly sub: Redis,
    private readonly log: Logger,
  ) {}

  /** `sub` is put in subscriber mode: pass a connection of its own. */
  static async start(events: SessionEvents, pub: Redis, sub: Redis, logger: Logger): Promise<SessionEventRelay> {
    const relay = new SessionEventRelay(events, pub, sub, logger.child({ component: 'event-relay' }));
    await relay.#listen();
    return relay;
  }

  async #listen(): Promise<void> {
    for (const name of RELAYED) {
      const fn = (payload: unknown) => {
        if (this.#replaying) return;
        const env: Envelope = { from: this.#instance, name, payload };
        this.pub.publish(clusterChannels.sessionEvents, JSON.stringify(env)).catch((err: unknown) => {
          this.log.warn({ err, event: name }, 'could not relay a session event');
        });
      };
      this.events.on(name, fn as never);
      this.#offs.push(() => this.events.off(name, fn as never));
    }
    const onMessage = (channel: string, message: string) => {
      if (channel !== clusterChannels.sessionEvents) return;
      let env: Envelope;
      try {
        env = JSON.parse(message) as Envelope;
      } catch {
        return;
      }
      if (env.from === this.#instance || !RELAYED.includes(env.name)) return;
      this.#replaying = true;
      try {
        (this.events.emit as (n: string, p: unknown) => boolean)(env.name, env.payload);
      } catch (err) {
        this.log.warn({ err, event: env.name }, 'a relayed session event listener threw');
      } finally {
        this.#replaying = false;
      }
    };
    this.sub.on('message', onMessage);
    this.#offs.push(() => this.sub.off('message', onMessage));
    await this.sub.subscribe(clusterChannels.sessionEvents);
  }

  close(): void {
    for (const off of this.#offs.splice(0)) off();
  }
}
