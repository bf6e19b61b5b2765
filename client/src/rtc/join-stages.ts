// The join page's first join in stages: the instant the page reached each step, from its
// script's start to the first decoded frame of the hall, in ms since its navigation
// started (performance.now()). Kept in `window.__joinStages` for the benchmarks and the
// tests to read; nothing is logged. Only the first join counts: a later rebuild or
// reconnect keeps the first instant of each stage. ICE, DTLS, the first RTP packet and the
// first frame are read from the receive transport's statistics every 20 ms, from the
// creation of the hall camera's consumer (the page's first, which starts ICE and DTLS)
// until its first frame (or a minute), then never again; only on a page opened with
// `?stages` (the load generator's), so a delegates' screen spends nothing on it.

/** The stages, in the order a join usually reaches them. */
export const JOIN_PAGE_STAGES = [
  'script',
  'socket',
  'device',
  'transport',
  'consumer',
  'resumed',
  'ice',
  'dtls',
  'firstRtp',
  'firstFrame',
] as const;
export type JoinPageStage = (typeof JOIN_PAGE_STAGES)[number];
export type JoinPageStages = Partial<Record<JoinPageStage, number>>;

/**
 * The orders a join always follows, each stage after the one before it. ICE and DTLS start
 * with the first consumer of any kind, so they race the hall camera's own consumer and its
 * resume; the first RTP packet follows both chains.
 */
export const JOIN_PAGE_CHAINS: readonly (readonly JoinPageStage[])[] = [
  ['script', 'socket', 'device', 'transport', 'consumer', 'resumed'],
  ['transport', 'ice', 'dtls', 'firstRtp', 'firstFrame'],
  ['consumer', 'firstRtp'],
];

/** Whether the page reads the statistics stages (ICE to first frame): opened with `?stages`. */
export function readsJoinStages(search: string): boolean {
  return new URLSearchParams(search).has(JOIN_STAGES_PARAM);
}

/** The query parameter that asks for them. */
export const JOIN_STAGES_PARAM = 'stages';

/** Where the page keeps them (`window.__joinStages`). */
export const JOIN_STAGES_GLOBAL = '__joinStages';

/** The stages missing or out of the chains' order, as `a > b` texts (none: in order). */
export function joinStageProblems(at: JoinPageStages): string[] {
  const problems = JOIN_PAGE_STAGES.filter((s) => typeof at[s] !== 'number').map((s) => `${s} missing`);
  for (const chain of JOIN_PAGE_CHAINS) {
    for (let i = 1; i < chain.length; i++) {
      const a = at[chain[i - 1]!];
      const b = at[chain[i]!];
      if (a !== undefined && b !== undefined && a > b) problems.push(`${chain[i - 1]} ${a} > ${chain[i]} ${b}`);
    }
  }
  return problems;
}

type Stat = Record<string, unknown>;

/** What the recorder reads of the receiver (rtc/receiver.ts): its transport and consumers. */
export interface WatchedReceiver {
  readonly transport: { closed: boolean; getStats(): Promise<{ forEach(cb: (s: Stat) => void): void }> } | undefined;
  consumers(): { track: { id: string }; appData: Record<string, unknown> }[];
}

export class JoinStages {
  readonly at: JoinPageStages = {};
  #timer: ReturnType<typeof setInterval> | undefined;
  #done = false;

  constructor(
    target: object,
    private readonly now: () => number = () => performance.now(),
  ) {
    (target as Record<string, unknown>)[JOIN_STAGES_GLOBAL] = this.at;
  }

  /** The stage's first instant; later ones are ignored. */
  mark(stage: JoinPageStage, at = this.now()): void {
    this.at[stage] ??= Math.round(at * 10) / 10;
  }

  /**
   * Reads the receive transport's statistics every `everyMs` until the hall's first
   * decoded frame (or `giveUpMs`): ICE and DTLS from its transport statistics, the first
   * RTP packet and the first frame from the hall camera's inbound-rtp.
   */
  watch(receiver: WatchedReceiver, everyMs = 20, giveUpMs = 60_000): void {
    if (this.#timer || this.#done) return;
    const until = this.now() + giveUpMs;
    let busy = false;
    this.#timer = setInterval(() => {
      if (busy) return;
      if (this.at.firstFrame !== undefined || this.now() > until) return this.#stop();
      const transport = receiver.transport;
      if (!transport || transport.closed) return;
      busy = true;
      const hall = receiver.consumers().find((c) => c.appData.source === 'host-camera');
      void transport
        .getStats()
        .then((report) => this.read(report, hall?.track.id))
        .catch(() => undefined)
        .finally(() => (busy = false));
    }, everyMs);
  }

  /** One statistics report: marks what it shows reached (exposed for the unit tests). */
  read(report: { forEach(cb: (s: Stat) => void): void }, hallTrackId: string | undefined): void {
    const t = this.now();
    report.forEach((s) => {
      if (s.type === 'transport') {
        if (s.iceState === 'connected' || s.iceState === 'completed' || s.selectedCandidatePairId) this.mark('ice', t);
        if (s.dtlsState === 'connected') this.mark('dtls', t);
      } else if (s.type === 'inbound-rtp' && hallTrackId !== undefined && s.trackIdentifier === hallTrackId) {
        if (Number(s.packetsReceived ?? 0) > 0) this.mark('firstRtp', t);
        if (Number(s.framesDecoded ?? 0) > 0) this.mark('firstFrame', t);
      }
    });
    if (this.at.firstFrame !== undefined) this.#stop();
  }

  #stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#done = true;
  }
}
