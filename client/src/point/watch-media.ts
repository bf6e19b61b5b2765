// The point page's media watchdog, wired: every 2 s it reads the hall's consumed tracks
// (frames decoded for the camera, packets received for the microphone) and lets
// media-watchdog.ts decide. First strike: an ICE restart on the same transport. Second
// strike: the page's own rebuild (new transport and consumers, the path a socket
// reconnect takes). The count of rebuilds goes into every health report, so the network
// desk sees a point that needed one.
import type { BroadcastView, ViewerMode } from '../../../server/contract/broadcast';
import type { PointSocket } from '../net/sockets';
import type { BroadcastReceiver } from '../rtc/receiver';
import { MediaWatchdog, type MediaWatchdogOptions, type WatchedTrack, type WatchdogAction } from './media-watchdog';

export interface MediaWatchContext {
  socket: PointSocket;
  receiver: BroadcastReceiver;
  view: () => BroadcastView | undefined;
  mode: () => ViewerMode;
  /** Rebuilds the receive transport and consumers (the page's startMedia). */
  rebuild: () => Promise<void>;
  /** Told of each action, for the page's status line. */
  onAction?: (a: WatchdogAction) => void;
  options?: Partial<MediaWatchdogOptions>;
  everyMs?: number;
}

/** How often the watchdog looks, unless the context says otherwise. */
export const WATCH_EVERY_MS = 2000;

type Stat = Record<string, unknown>;
const n = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);

/** The hall tracks that should be flowing now, with their progress counters. */
async function watchedTracks(ctx: MediaWatchContext, v: BroadcastView): Promise<WatchedTrack[]> {
  const out: WatchedTrack[] = [];
  for (const c of ctx.receiver.consumers()) {
    const source = (c.appData as { source?: string }).source;
    const video = source === 'host-camera';
    // Only the hall: slides and a point's floor come and go, and idle slides send little.
    if (!video && source !== 'host-mic') continue;
    // A paused producer, or video paused by the audio-only mode, is silent on purpose.
    if (video ? v.paused.video || ctx.mode() === 'audio-only' : v.paused.audio) continue;
    const report = await c.getStats().catch(() => undefined);
    if (!report) continue;
    let progress = 0;
    report.forEach((s: Stat) => {
      if (s.type !== 'inbound-rtp' || s.mid === 'probator') return;
      // Video that arrives but never decodes is as black as none at all.
      progress += video ? n(s.framesDecoded) : n(s.packetsReceived);
    });
    out.push({ key: c.id, progress });
  }
  return out;
}

export function startMediaWatch(ctx: MediaWatchContext): MediaWatchdog {
  const dog = new MediaWatchdog(ctx.options);
  let looking = false;
  const look = async () => {
    // A rebuild in progress has no consumers yet: no judgement, no reset either.
    if (looking || ctx.receiver.building) return;
    looking = true;
    try {
      const v = ctx.view();
      const active = !!v && v.state === 'live' && ctx.socket.connected;
      const tracks = active ? await watchedTracks(ctx, v) : [];
      if (ctx.receiver.building) return;
      const action = dog.observe(performance.now(), active, tracks);
      if (action.type === 'none') return;
      ctx.onAction?.(action);
      if (action.type === 'restart-ice') ctx.receiver.restartIce();
      else await ctx.rebuild();
    } catch {
      // A failed rebuild is judged again on the next look (with the backoff).
    } finally {
      looking = false;
    }
  };
  setInterval(() => void look(), ctx.everyMs ?? WATCH_EVERY_MS);
  return dog;
}
