// Records what happens in a session as it happens: the state transitions this process
// made (from the session events), and what the live session reports (agenda, pauses,
// slides, floor). A failed write is logged, never thrown: the broadcast does not wait on
// its record.
import type { Logger } from 'pino';
import type { TimelineEntry } from '../../contract/timeline';
import type { SessionEventMap, SessionEvents } from '../sessions/events';
import type { TimelineStore } from './store';

/** What the live session needs: one method. */
export interface TimelineSink {
  record(sessionId: string, entry: TimelineEntry): Promise<void>;
}

type StateChange = SessionEventMap['stateChanged'][0];

export class TimelineRecorder implements TimelineSink {
  readonly #log: Logger;
  readonly #pending = new Set<Promise<void>>();
  readonly #onState = (e: StateChange) => {
    const p = this.record(e.sessionId, { type: 'state', at: e.at, from: e.from, to: e.to, by: e.by });
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  };

  constructor(
    readonly store: TimelineStore,
    private readonly events: SessionEvents,
    logger: Logger,
  ) {
    this.#log = logger.child({ component: 'timeline' });
    events.on('stateChanged', this.#onState);
  }

  async record(sessionId: string, entry: TimelineEntry): Promise<void> {
    try {
      await this.store.append(sessionId, entry);
    } catch (err) {
      this.#log.error({ err, sessionId, entry }, 'could not record a timeline entry');
    }
  }

  /** Stops listening; resolves once the state entries already seen are written. */
  async close(): Promise<void> {
    this.events.off('stateChanged', this.#onState);
    await Promise.all(this.#pending);
  }
}
