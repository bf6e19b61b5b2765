// In-process, typed notifications of what happened to sessions, for the realtime layer
// (Socket.IO rooms) and anything else that reacts. Emitted after the change is stored.
// Each process sees the changes it made itself (HTTP requests it served, jobs its worker
// ran); the Socket.IO Redis adapter carries what it broadcasts to the other processes.
import { EventEmitter } from 'node:events';
import type { AgendaItem, SessionState } from '../../contract/api';

export interface SessionEventMap {
  /** A session moved from one state to another (`from` is null when it was created). */
  stateChanged: [{ sessionId: string; from: SessionState | null; to: SessionState; at: string; by: string }];
  /** The agenda was edited (items added, removed, reordered or changed). */
  agendaChanged: [{ sessionId: string; agenda: AgendaItem[] }];
  /** Title, times or invited points changed (not the state: see stateChanged). */
  sessionUpdated: [{ sessionId: string; fields: string[] }];
  /** The start-time job fired while the host had not started yet. */
  startReached: [{ sessionId: string; scheduledStart: string; state: SessionState }];
  /** The session is still live well past its planned end. */
  overrun: [{ sessionId: string; plannedEnd: string; at: string }];
  /** A point's link was revoked or re-issued: its open connections should be dropped. */
  linkRevoked: [{ sessionId: string; pointId: string; reissued: boolean }];
  // Scale-out only (server/cluster): what one node's live session tells the others.
  /** Node `nodeId`'s raised hands changed (stored under `cluster:hands:<session>`). */
  handsChanged: [{ sessionId: string; nodeId: string }];
  /** The host gave (or took back) the floor of a point that node `nodeId` serves: that node enacts it. */
  floorOrder: [{ sessionId: string; pointId: string; nodeId: string; granted: boolean }];
  /** On node `nodeId`, the floor of a point ended (taken back, or the point left). */
  floorEnded: [{ sessionId: string; pointId: string; nodeId: string }];
  /** Node `nodeId` stored a change of the host's settings (`live:<session>`): the others read them again. */
  liveChanged: [{ sessionId: string; nodeId: string }];
}

export class SessionEvents extends EventEmitter<SessionEventMap> {
  constructor() {
    super();
    // Every namespace and service may listen; the default of 10 would warn for nothing.
    this.setMaxListeners(100);
  }
}
