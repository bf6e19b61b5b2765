// The life of a briefing session, for the server that enforces it and the host page that
// offers only the buttons it allows: its states, the legal transitions, what each of the
// host's actions moves it to, and the states in which it may still be edited. Imports
// only zod: the browser imports this file.
import { z } from 'zod';

export const SESSION_STATES = ['draft', 'scheduled', 'lobby', 'live', 'ended', 'cancelled'] as const;
export const SessionStateSchema = z.enum(SESSION_STATES).meta({ id: 'SessionState' });
export type SessionState = z.infer<typeof SessionStateSchema>;

/** Legal transitions. Anything else is a 409. */
export const TRANSITIONS: Record<SessionState, readonly SessionState[]> = {
  draft: ['scheduled', 'cancelled'],
  scheduled: ['lobby', 'live', 'cancelled'],
  lobby: ['live', 'cancelled'],
  live: ['ended'],
  ended: [],
  cancelled: [],
};

export function canTransition(from: SessionState, to: SessionState): boolean {
  return TRANSITIONS[from].includes(to);
}

export const SESSION_ACTIONS = ['schedule', 'open-lobby', 'start', 'end', 'cancel'] as const;
export const SessionActionSchema = z.enum(SESSION_ACTIONS);
export type SessionAction = z.infer<typeof SessionActionSchema>;

/** The state each of the host's actions moves a session to. */
export const ACTION_TARGET: Record<SessionAction, SessionState> = {
  schedule: 'scheduled',
  'open-lobby': 'lobby',
  start: 'live',
  end: 'ended',
  cancel: 'cancelled',
};

/** Whether the action is legal for a session in that state. */
export function actionAllowed(action: SessionAction, from: SessionState): boolean {
  return canTransition(from, ACTION_TARGET[action]);
}

/** Open sessions: their jobs are kept queued and their room may carry media. */
export const OPEN_STATES: readonly SessionState[] = ['scheduled', 'lobby', 'live'];
/** States in which the times may still move (rescheduling replaces the jobs). */
export const TIMES_EDITABLE: readonly SessionState[] = ['draft', 'scheduled'];
/** States in which title, agenda, invitations and planned end may still change. */
export const CONTENT_EDITABLE: readonly SessionState[] = ['draft', 'scheduled', 'lobby', 'live'];
