// Every time on the pages is shown in the briefing's zone (given by the server in
// `<meta name="briefing-tz">`), not the browser's, and says which zone it is.
import {
  DEFAULT_TIME_ZONE,
  formatInZone,
  fromZoneInput,
  toZoneInput,
  zoneLabel,
  type TimeStyle,
} from '../../../server/contract/time-zone';
import type { Text } from './i18n';

export function briefingZone(): string {
  return document.querySelector<HTMLMetaElement>('meta[name="briefing-tz"]')?.content || DEFAULT_TIME_ZONE;
}

/** An instant in the briefing's zone; '—' for none. */
export function showTime(iso: string | number | null | undefined, style: TimeStyle = 'dateTime'): string {
  return formatInZone(iso, briefingZone(), style);
}

/** "giờ Asia/Ho_Chi_Minh, UTC+7" · "Asia/Ho_Chi_Minh time, UTC+7". */
export function zoneText(): Text {
  const z = zoneLabel(briefingZone());
  return [`giờ ${z}`, `time zone ${z}`];
}

/** `datetime-local` values are the briefing zone's wall clock. */
export const toLocalInput = (iso: string) => toZoneInput(iso, briefingZone());
export const fromLocalInput = (value: string) => (value ? fromZoneInput(value, briefingZone()) : undefined);
