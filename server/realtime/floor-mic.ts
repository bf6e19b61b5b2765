// The microphone of the point holding the floor, as the SFU has it: the desk mutes it by
// pausing its producer (desk-floor.ts), and every view says whether it is paused.
import type { BroadcastRoom } from '../../sfu';

export function floorMic(room: BroadcastRoom | undefined, pointId: string) {
  const peer = room?.getPeer(pointId);
  return peer ? [...peer.producers.values()].find((p) => p.source === 'floor-mic') : undefined;
}

/** Whether the microphone of the point holding the floor is paused at the SFU. */
export function floorMuted(room: BroadcastRoom | undefined, pointId: string): boolean {
  return floorMic(room, pointId)?.producer.paused ?? false;
}
