// The media engine's public API. sfu/ knows nothing of HTTP, sockets, Redis or sessions.
export { WorkerPool } from './worker-pool';
export type { WorkerPoolOptions, WorkerSlot, WorkerStatus } from './worker-pool';
export { setMediasoupLogSink } from './mediasoup-log';
export { checkWorkerBinary } from './worker-binary';
export type { WorkerStamp } from './worker-binary';
export { BroadcastRoom } from './broadcast-room';
export type { BroadcastRoomOptions } from './broadcast-room';
export { Peer } from './peer';
export { SfuError, isSfuError } from './errors';
export type { SfuErrorCode } from './errors';
export { DEFAULT_LAYER_POLICY, decideLayer, initialLayerState, modeCap } from './layer-policy';
export { DEFAULT_PEER_LIMITS } from './limits';
export type { PeerLimits } from './limits';
export type { LayerPolicyConfig, LayerPolicyInput, LayerPolicyState, LayerDecision } from './layer-policy';
export {
  ROUTER_MEDIA_CODECS,
  KEY_FRAME_REQUEST_DELAY_MS,
  VIEWER_INITIAL_OUTGOING_BITRATE,
  HOST_MAX_INCOMING_BITRATE,
  FLOOR_MAX_INCOMING_BITRATE,
  DEFAULT_LAYER_BITRATES_BPS,
} from './media-codecs';
export type * from './types';
export type { RecordingTapInfo, RecordingTapTarget } from './recording-taps';
export type { SipMedia } from './sip-media';
export { PipeSender, PipeReceiver } from './remote-pipe';
export type { PipeEndpoint, PipedProducer, PipeListen } from './remote-pipe';
