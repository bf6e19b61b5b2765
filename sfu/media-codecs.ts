// What the routers speak and the numbers the room tunes mediasoup with. Kept in one place
// so the signalling layer and the benchmarks can quote them.
import type { types as ms } from 'mediasoup';

/**
 * Opus for audio; VP8 first for video (every browser a point may run decodes it, and
 * mediasoup-client picks the router's first matching codec); H264 constrained baseline as
 * a second choice for hardware encoders (costs nothing unless a producer uses it).
 * Header extensions (mid, rid, abs-send-time, transport-wide-cc, audio-level...) come from
 * mediasoup's supported capabilities; 3.12 does not let a router narrow them.
 */
export const ROUTER_MEDIA_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/opus', clockRate: 48000, channels: 2 },
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    // A hint for Chromium's encoder so the host does not start at 300 kbps.
    parameters: { 'x-google-start-bitrate': 1000 },
  },
  {
    kind: 'video',
    mimeType: 'video/H264',
    clockRate: 90000,
    parameters: { 'packetization-mode': 1, 'profile-level-id': '42e01f', 'level-asymmetry-allowed': 1 },
  },
];

/**
 * What rooms add when room systems dial in over SIP (sip-media.ts): G.711 and G.722, the
 * audio of the shared transcode. H.264 is in ROUTER_MEDIA_CODECS already. Only rooms built
 * with `sipCodecs` have them, so browsers never see codecs no point of theirs uses.
 */
export const SIP_MEDIA_CODECS: ms.RtpCodecCapability[] = [
  { kind: 'audio', mimeType: 'audio/PCMU', clockRate: 8000 },
  { kind: 'audio', mimeType: 'audio/PCMA', clockRate: 8000 },
  { kind: 'audio', mimeType: 'audio/G722', clockRate: 8000 },
];

/**
 * Producer keyFrameRequestDelay (ms; the server's KEY_FRAME_REQUEST_DELAY_MS). mediasoup
 * forwards the first key-frame request for an ssrc at once, then folds every request that
 * arrives in the next window into one request sent when the window ends. With 420 points
 * joining in a storm, points rebuilding and lossy links asking (and every fan-out
 * router's pipe forwarding its consumers' PLIs to the origin), that caps each video
 * producer's encoder at one key frame per second per layer; a point that joins just after
 * another waits up to this long for its first picture (docs/benchmarks/join-storm.md:
 * 500 ms saved about a quarter of a second per page joining an idle briefing; its cost to
 * the picture in a storm is not measured).
 */
export const KEY_FRAME_REQUEST_DELAY_MS = 1000;

/**
 * Initial estimate for a point's receive transport: enough for the 360p layer plus audio
 * at once on a 2 Mbps link; mediasoup's bandwidth estimator moves it from there.
 */
export const VIEWER_INITIAL_OUTGOING_BITRATE = 1_000_000;
/** The host sends 3 simulcast layers (~0.15 + 0.5 + 1.5 Mbps), slides and audio. */
export const HOST_MAX_INCOMING_BITRATE = 5_000_000;
/** A point with the floor sends one camera and a microphone. */
export const FLOOR_MAX_INCOMING_BITRATE = 1_500_000;
/** Expected send bitrate of each simulcast layer (180p, 360p, 720p) when the producer does not say. */
export const DEFAULT_LAYER_BITRATES_BPS: readonly number[] = [150_000, 500_000, 1_500_000];
