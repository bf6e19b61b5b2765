// The browser's own RTP capabilities, asked as soon as a page starts. mediasoup-client's
// Device.load() asks the browser for them (two throwaway peer connections and their
// offers: on a busy machine the longest part of a load) only once it has the router's
// capabilities, which come over the socket after it connects. Asked at once, they are
// ready by then, and the load that follows only intersects the two.
import type { HandlerFactory } from 'mediasoup-client/handlers/HandlerInterface';

/** What of mediasoup-client this needs (rtc/mediasoup.ts). */
export interface HandlerSource {
  detectDevice(): string | undefined;
  readonly HANDLERS: Readonly<Record<string, () => HandlerFactory>>;
}

/**
 * How long a load waits in all for the early queries still running before it asks the
 * browser again itself: an early query that never settles (a peer connection stuck in a
 * starved or broken renderer) must not hold the load up for good. One deadline for the
 * load's three asks (mediasoup-client asks receiving, sending and SCTP in turn), started
 * at its first. A query whose offer never settles keeps its peer connection open (it is
 * closed only once the offer is made): one per direction, once per page.
 */
export const EARLY_QUERY_WAIT_MS = 3000;

type RtpCaps = Awaited<ReturnType<HandlerFactory['getNativeRtpCapabilities']>>;
type SctpCaps = Awaited<ReturnType<HandlerFactory['getNativeSctpCapabilities']>>;

/** What each query answers, by its kind: RTP receiving or sending, or SCTP. */
interface Answers {
  recvonly: RtpCaps;
  sendonly: RtpCaps;
  sctp: SctpCaps;
}

/** One kind of query: its latest ask of the browser, running or settled. */
class Query<T> {
  #latest: Promise<T>;

  /** Asks the browser now; a failure is the load's to ask again. */
  constructor(ask: () => Promise<T>) {
    this.#latest = ask();
    this.#latest.catch(() => undefined);
  }

  /** The latest answer if it comes by `deadline`, else the browser asked again (kept for the next load). */
  answer(ask: () => Promise<T>, deadline: number): Promise<T> {
    return earlyOrAgain(this.#latest, () => (this.#latest = ask()), deadline);
  }
}

/**
 * The handler factory mediasoup-client would pick for this browser, its native receiving
 * and sending capabilities (and SCTP's) asked now; undefined when the browser is none of
 * those (a Device then detects and loads as usual). When the load asks, a query that
 * failed is asked again, and so is one still running `waitMs` after the load's first ask;
 * the answer asked again is the one the next load gets.
 */
export function earlyHandlerFactory(
  lib: HandlerSource,
  waitMs: number = EARLY_QUERY_WAIT_MS,
): HandlerFactory | undefined {
  const name = lib.detectDevice();
  const create = name && Object.hasOwn(lib.HANDLERS, name) ? lib.HANDLERS[name] : undefined;
  if (!create) return undefined;
  const base = create();
  const asked: { [K in keyof Answers]: Query<Answers[K]> } = {
    recvonly: new Query(() => base.getNativeRtpCapabilities({ direction: 'recvonly' })),
    sendonly: new Query(() => base.getNativeRtpCapabilities({ direction: 'sendonly' })),
    sctp: new Query(() => base.getNativeSctpCapabilities()),
  };
  let first: number | undefined;
  /** One deadline for the load's asks, from its first. */
  const deadline = () => (first ??= Date.now() + waitMs);
  return {
    name: base.name,
    factory: base.factory,
    getNativeRtpCapabilities: (o) => asked[o.direction].answer(() => base.getNativeRtpCapabilities(o), deadline()),
    getNativeSctpCapabilities: () => asked.sctp.answer(() => base.getNativeSctpCapabilities(), deadline()),
  };
}

/**
 * The early answer if it came or comes by `deadline` (a Date.now() time); else (it
 * failed, or is still running by then) the browser asked again.
 */
async function earlyOrAgain<T>(early: Promise<T>, again: () => Promise<T>, deadline: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>(
    (resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()))),
  );
  try {
    const got = await Promise.race([early.then((value) => ({ value })), late]);
    if (got) return got.value;
  } catch {
    // failed early: asked again below
  } finally {
    clearTimeout(timer);
  }
  return again();
}
