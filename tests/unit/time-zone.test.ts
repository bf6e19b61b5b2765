import { loadConfig } from '../../server/config';
import {
  formatInZone,
  fromZoneInput,
  toZoneInput,
  zoneLabel,
  zoneOffsetMinutes,
} from '../../server/contract/time-zone';

describe('times in the briefing zone', () => {
  const at = '2026-11-30T01:00:00.000Z';

  test('shown in the zone, whatever the process runs in', () => {
    expect(formatInZone(at, 'Asia/Ho_Chi_Minh', 'time')).toBe('08:00:00');
    expect(formatInZone(at, 'Asia/Ho_Chi_Minh')).toMatch(/08:00/);
    expect(formatInZone(at, 'Asia/Ho_Chi_Minh')).toMatch(/30\/11\/2026/);
    expect(formatInZone(at, 'America/New_York', 'time')).toBe('20:00:00');
    expect(formatInZone(null, 'Asia/Ho_Chi_Minh')).toBe('—');
    expect(formatInZone('not a time', 'Asia/Ho_Chi_Minh')).toBe('—');
  });

  test('the zone is said with its offset', () => {
    expect(zoneLabel('Asia/Ho_Chi_Minh', Date.parse(at))).toBe('Asia/Ho_Chi_Minh, UTC+7');
    expect(zoneLabel('Asia/Kolkata', Date.parse(at))).toBe('Asia/Kolkata, UTC+5:30');
    expect(zoneLabel('America/New_York', Date.parse(at))).toBe('America/New_York, UTC-5');
    expect(zoneOffsetMinutes(Date.parse('2026-07-01T12:00:00Z'), 'America/New_York')).toBe(-240);
  });

  test('datetime-local values are the zone’s wall clock, both ways', () => {
    expect(toZoneInput(at, 'Asia/Ho_Chi_Minh')).toBe('2026-11-30T08:00');
    expect(fromZoneInput('2026-11-30T08:00', 'Asia/Ho_Chi_Minh')).toBe(at);
    expect(fromZoneInput('2026-11-30T08:00', 'UTC')).toBe('2026-11-30T08:00:00.000Z');
    // Either side of a change of offset.
    expect(fromZoneInput('2026-03-08T01:30', 'America/New_York')).toBe('2026-03-08T06:30:00.000Z');
    expect(fromZoneInput('2026-03-08T04:30', 'America/New_York')).toBe('2026-03-08T08:30:00.000Z');
    for (const tz of ['Asia/Ho_Chi_Minh', 'Europe/Paris', 'Australia/Adelaide']) {
      for (let h = 0; h < 24 * 365; h += 97) {
        const iso = new Date(Date.parse('2026-01-01T00:00:00Z') + h * 3600_000).toISOString();
        expect(fromZoneInput(toZoneInput(iso, tz), tz)).toBe(iso);
      }
    }
    expect(fromZoneInput('yesterday', 'Asia/Ho_Chi_Minh')).toBeUndefined();
  });

  test('BRIEFING_TZ: Asia/Ho_Chi_Minh by default, any IANA zone, nothing else', () => {
    expect(loadConfig({}).timeZone).toBe('Asia/Ho_Chi_Minh');
    expect(loadConfig({ BRIEFING_TZ: 'Asia/Bangkok' }).timeZone).toBe('Asia/Bangkok');
    expect(() => loadConfig({ BRIEFING_TZ: 'Hanoi' })).toThrow(/BRIEFING_TZ: must be an IANA time zone/);
  });
});
