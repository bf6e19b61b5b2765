// What a broadcast room shares with the parts it is made of (its topology, its producers,
// its plain ingests, its stats and its viewers' layers). Each part takes, through its
// constructor, only the members it uses (a `Pick` of this), so a part reads on its own.
import type { Logger } from 'pino';
import type { Peer } from './peer';
import type { BroadcastRoomEvents } from './types';

/** The room's typed `emit`, for parts that announce what happened to them. */
export type RoomEmit = <K extends keyof BroadcastRoomEvents>(event: K, ...args: BroadcastRoomEvents[K]) => void;

export interface RoomContext {
  readonly roomId: string;
  /** The room's child logger (carries the room id). */
  readonly log: Logger;
  /** The room's peers by id; only the room adds and removes them. */
  readonly peers: ReadonlyMap<string, Peer>;
  /** True once the room is closed: its parts then do nothing more and announce nothing. */
  isClosed(): boolean;
  /** The connection point holding the floor, if any. */
  floorHolder(): string | undefined;
  emit: RoomEmit;
}
