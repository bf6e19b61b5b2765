// What the SFU logs (pino, info) when a point's video stops and starts again
// (sfu/room-consumers.ts). The load generator reads these lines back from the server's log
// to match the points' video silences to them (scripts/loadgen/video-stops.ts): the
// messages and fields are one definition for both, so a rename cannot break the reading
// silently. This module imports nothing, so a script may take it without the media engine.

/** A simulcast consumer's layers went to none: the point receives no video from now. */
export const VIDEO_STOP_MSG = 'SFU sends a point no video layer';
/** The consumer has a layer again: the point's video resumes (with `stoppedMs`, `spatialLayer`). */
export const VIDEO_AGAIN_MSG = 'SFU sends a point video again';
/** A consumer closed while it sent no video (a rejoin or a rebuild): the stop ends here (with `stoppedMs`). */
export const VIDEO_STOPPED_CLOSE_MSG = 'SFU closed a consumer that sent no video layer';

/** The fields every one of these lines carries. */
export interface VideoStopFields {
  /** The point (the consuming peer). */
  peerId: string;
  consumerId: string;
  /** The consumed producer's source (`host-camera` for the hall's video). */
  source: string;
  /** The receive transport's bandwidth estimate (bps) when it was said; absent on a close. */
  availableBitrate?: number;
}
