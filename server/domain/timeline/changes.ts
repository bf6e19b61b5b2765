// The timeline entries a change of the host's live settings makes (agenda item, pauses,
// slides). Each field of the change gives one; the store drops those that change nothing.
import type { AgendaItem } from '../../contract/api';
import type { TimelineEntry } from '../../contract/timeline';

export interface LiveSettingsChange {
  agendaIndex?: number | null;
  pausedVideo?: boolean;
  pausedAudio?: boolean;
  slidesOn?: boolean;
}

export function settingsEntries(change: LiveSettingsChange, agenda: readonly AgendaItem[], at: Date): TimelineEntry[] {
  const when = at.toISOString();
  const out: TimelineEntry[] = [];
  const item = change.agendaIndex != null ? agenda[change.agendaIndex] : undefined;
  if (item) {
    const index = change.agendaIndex!;
    out.push({ type: 'agenda', at: when, index, itemId: item.id, title: item.title, speaker: item.speaker });
  }
  if (change.pausedVideo !== undefined)
    out.push({ type: 'pause', at: when, kind: 'video', paused: change.pausedVideo });
  if (change.pausedAudio !== undefined)
    out.push({ type: 'pause', at: when, kind: 'audio', paused: change.pausedAudio });
  if (change.slidesOn !== undefined) out.push({ type: 'slides', at: when, on: change.slidesOn });
  return out;
}
