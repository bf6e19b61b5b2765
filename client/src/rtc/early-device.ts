// The browser's own RTP capabilities, asked as soon as a page starts. mediasoup-client's
// Device.load() asks the browser for them (two throwaway peer connections and their
// offers: on a busy machine the longest part of a load) only once it has the router's
// capabilities, which come over the socket after it connects. Asked at once, they are
// ready by then, and the load that follows only intersects the two.
import { detectDevice } from 'mediasoup-client';
import { Chrome111 } from 'mediasoup-client/handlers/Chrome111';
import { Chrome74 } from 'mediasoup-client/handlers/Chrome74';
import { Firefox120 } from 'mediasoup-client/handlers/Firefox120';
import type { HandlerFactory } from 'mediasoup-client/handlers/HandlerInterface';
import { Safari12 } from 'mediasoup-client/handlers/Safari12';

/** The handlers a page's browser may use, by the name mediasoup-client detects. */
const HANDLERS: Record<string, () => HandlerFactory> = {
  Chrome111: () => Chrome111.createFactory(),
  Chrome74: () => Chrome74.createFactory(),
  Firefox120: () => Firefox120.createFactory(),
  Safari12: () => Safari12.createFactory(),
};

/**
 * The handler factory mediasoup-client would pick for this browser, its native receiving
 * and sending capabilities (and SCTP's) asked now; undefined when the browser is none of
 * those (a Device then detects and loads as usual). A query that failed is asked again.
 */
export function earlyHandlerFactory(): HandlerFactory | undefined {
  const name = detectDevice();
  const create = name ? HANDLERS[name] : undefined;
  if (!create) return undefined;
  const base = create();
  const asked = new Map<string, Promise<Awaited<ReturnType<HandlerFactory['getNativeRtpCapabilities']>>>>();
  for (const direction of ['recvonly', 'sendonly'] as const) {
    const p = base.getNativeRtpCapabilities({ direction });
    p.catch(() => undefined);
    asked.set(direction, p);
  }
  const sctp = base.getNativeSctpCapabilities();
  sctp.catch(() => undefined);
  return {
    name: base.name,
    factory: base.factory,
    getNativeRtpCapabilities: (o) =>
      (asked.get(o.direction) ?? Promise.reject(new Error('not asked'))).catch(() => base.getNativeRtpCapabilities(o)),
    getNativeSctpCapabilities: () => sctp.catch(() => base.getNativeSctpCapabilities()),
  };
}
