// What a live session asks of the other nodes. A single process (NODE_ROLE=all) is built
// with SINGLE_NODE, which answers from this process alone; a node of several with the
// cluster's links (server/cluster/membership.ts).
import type { Hand } from '../contract/broadcast';

export interface ClusterPort {
  /**
   * This node's rooms make the hall (a single node, the origin) rather than mirror
   * another node's (an edge, fed through a pipe): only such a node records which source
   * the points see, so the session's timeline has one writer of it.
   */
  readonly makesHall: boolean;
  /** Points connected to any node; `local`: this process's count. */
  connectedPoints(sessionId: string, local: number): Promise<number>;
  /** Points receiving video on any node; `local` are this node's. */
  receivingVideo(sessionId: string, local: readonly string[]): Promise<number>;
  /** This node's raised hands changed: share them with the other nodes. */
  handsChanged(sessionId: string, local: readonly Hand[]): Promise<void>;
  /** The raised hands of every node, in order of raising (`local`: this node's). */
  allHands(sessionId: string, local: readonly Hand[]): Promise<Hand[]>;
  /**
   * The host gave (or took back) the floor of a point this node does not serve: tell
   * the node that serves it. Resolves false when no other node serves it.
   */
  remoteFloor(sessionId: string, pointId: string, granted: boolean): Promise<boolean>;
  /** The host here gives the floor to a point here: recorded before it is enacted. */
  floorGranted(sessionId: string, pointId: string): Promise<void>;
  /** A floor held on this node ended (taken back, or its point left). */
  floorEnded(sessionId: string, pointId: string): void;
  /**
   * This node stored a change of the host's settings (agenda item, pauses, slides, the
   * hall's source): the other nodes' sessions read them again, so the views and the hall
   * switch of the points they serve follow the host.
   */
  liveChanged(sessionId: string): void;
}

/** One process is the whole deployment: its own figures, no other node to tell. */
export const SINGLE_NODE: ClusterPort = {
  makesHall: true,
  connectedPoints: (_sessionId, local) => Promise.resolve(local),
  receivingVideo: (_sessionId, local) => Promise.resolve(local.length),
  handsChanged: () => Promise.resolve(),
  allHands: (_sessionId, local) => Promise.resolve([...local]),
  remoteFloor: () => Promise.resolve(false),
  floorGranted: () => Promise.resolve(),
  floorEnded: () => undefined,
  liveChanged: () => undefined,
};
