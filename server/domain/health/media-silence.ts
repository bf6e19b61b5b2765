// Silent media: the SFU's own sign that a point's network has gone, while its socket (and
// so its health reports) may still be up, e.g. a firewall or NAT that drops the point's
// UDP media but not its signalling. A connected browser never leaves a WebRTC transport
// quiet for long: it sends STUN consent checks (RFC 7675, every 5 s ± 20 %, Chromium's
// every 2.5 s) and RTCP (receiver reports, transport-cc feedback, several a second). So
// when the bytes the SFU has received on all of a point's connected transports do not
// grow for HEALTH_MEDIA_SILENT_MS, nothing is reaching us from it: its status turns `lost`
// at once and stays so until bytes flow again (status.ts, event `media`).
//
// This is what server-side ICE consent gives newer mediasoup versions; the product's
// mediasoup (3.12.16) has none. Pure: the caller (HealthTracker.report) feeds each
// observation of the SFU's transport stats with its time, about every 2 s per point.

/** What the SFU has received from a point's media transports, summed. */
export interface MediaFlow {
  /** The transports counted (ids): a new set (media rebuilt) starts a new count. */
  link: string;
  bytesReceived: number;
}

export interface SilenceWatch {
  link: string;
  bytes: number;
  /** When the count was last seen to grow, or the link to change (ms). */
  since: number;
}

/**
 * The next watch after one observation: undefined when there is nothing to watch (no SFU
 * view, or no transport that ever connected).
 */
export function observeFlow(
  prev: SilenceWatch | undefined,
  flow: MediaFlow | null | undefined,
  at: number,
): SilenceWatch | undefined {
  if (!flow || flow.link === '') return undefined;
  if (!prev || prev.link !== flow.link || flow.bytesReceived !== prev.bytes) {
    return { link: flow.link, bytes: flow.bytesReceived, since: at };
  }
  return prev;
}

/** True: silent for `silentMs` or more; false: flowing; undefined: nothing to judge. */
export function isSilent(w: SilenceWatch | undefined, at: number, silentMs: number): boolean | undefined {
  if (!w) return undefined;
  return at - w.since >= silentMs;
}
