// The attendance and quality report of a session: every invited point, the totals by
// district and province, the incidents. Rendered as CSV (UTF-8 with BOM, for Excel) and
// as a printable page in Vietnamese, with the timeline: the agenda items as they ran and
// what each point missed of them. All text is escaped; nothing from a user is markup.
//
// Keys: report:<s>   hash   json, csv, html, generatedAt
import type { Redis } from 'ioredis';
import type { Alert, ConnectionEvent, Headcount, HealthStatus, Report, ReportRow } from '../../contract/attendance';
import type { TimelineEntry } from '../../contract/timeline';
import { buildTimeline, missedSeconds, pointGaps } from '../timeline/spans';
import {
  missedCsvCells,
  missedCsvHeader,
  missedHtml,
  timelineCsvRows,
  timelineHtml,
  type Printer,
} from '../timeline/report-section';
import { connectedMs, type PreflightVerdict, type Presence } from './ledger';
import { rollup } from './rollup';
import { esc, printPage } from '../print-page';
import { writeCsv } from '../../security/csv';
import { formatInZone, zoneLabel } from '../../contract/time-zone';

export const reportKey = (s: string) => `report:${s}`;

export interface ReportPoint {
  id: string;
  code: string;
  name: string;
  level: string;
  district: string | null;
  districtName: string;
  expected: number;
}

export interface ReportInput {
  session: { id: string; title: string; startedAt: string | null; endedAt: string | null };
  points: ReportPoint[];
  presence: Map<string, Presence>;
  headcounts: Map<string, Headcount>;
  checkins: Map<string, number>;
  worst: Map<string, HealthStatus>;
  /** Each point's latest pre-flight verdict and tone answer. */
  preflights: Map<string, PreflightVerdict>;
  alerts: Alert[];
  /** The session's timeline entries (server/domain/timeline). */
  timeline: TimelineEntry[];
  /** Each point's join, leave and status events, for what it missed. */
  connectionEvents: Map<string, ConnectionEvent[]>;
  now: Date;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function buildReport(i: ReportInput): Report {
  const end = i.session.endedAt ? Date.parse(i.session.endedAt) : i.now.getTime();
  const timeline = buildTimeline(i.timeline, end);
  const onAir = timeline.items.length ? Date.parse(timeline.items[0]!.startedAt) : end;
  const alertsBy = new Map<string, number>();
  for (const a of i.alerts) alertsBy.set(a.pointId, (alertsBy.get(a.pointId) ?? 0) + 1);
  const rows: ReportRow[] = i.points.map((p) => {
    const pr = i.presence.get(p.id);
    return {
      pointId: p.id,
      code: p.code,
      name: p.name,
      level: p.level,
      district: p.districtName,
      firstJoin: iso(pr?.firstJoin ?? null),
      lastLeave: iso(pr?.since != null ? null : (pr?.lastLeave ?? null)),
      connectedMinutes: pr ? Math.round(connectedMs(pr, end) / 6000) / 10 : 0,
      disconnects: pr?.disconnects ?? 0,
      headcount: i.headcounts.get(p.id)?.count ?? null,
      expected: p.expected,
      checkedIn: i.checkins.get(p.id) ?? 0,
      worstStatus: i.worst.get(p.id) ?? 'offline',
      alerts: alertsBy.get(p.id) ?? 0,
      preflight: i.preflights.get(p.id)?.result ?? null,
      tone: i.preflights.get(p.id)?.tone ?? null,
      missedSeconds: missedSeconds(timeline.items, pointGaps(i.connectionEvents.get(p.id) ?? [], onAir, end)),
    };
  });
  const totals = rollup(
    i.points.map((p, k) => ({
      district: p.district,
      districtName: p.districtName,
      connected: i.presence.get(p.id)?.firstJoin != null,
      headcount: rows[k]!.headcount,
      expected: p.expected,
      checkedIn: rows[k]!.checkedIn,
      status: rows[k]!.worstStatus,
    })),
  );
  return {
    sessionId: i.session.id,
    title: i.session.title,
    generatedAt: i.now.toISOString(),
    startedAt: i.session.startedAt,
    endedAt: i.session.endedAt,
    rows,
    province: totals.province,
    districts: totals.districts,
    incidents: i.alerts,
    timeline,
  };
}

const STATUS_VI: Record<HealthStatus, string> = {
  offline: 'Không kết nối',
  connecting: 'Đang kết nối',
  good: 'Tốt',
  degraded: 'Giảm chất lượng',
  poor: 'Kém',
  lost: 'Mất kết nối',
};
const PREFLIGHT_VI: Record<NonNullable<ReportRow['preflight']>, string> = {
  pass: 'Đạt',
  warn: 'Cảnh báo',
  fail: 'Không đạt',
};
const TONE_VI: Record<NonNullable<ReportRow['tone']>, string> = {
  heard: 'Có',
  'not-heard': 'Không',
  unanswered: 'Chưa trả lời',
};
/** The pre-flight verdict and tone answer as the report prints them ("Chưa kiểm tra": never ran). */
const preflightVi = (x: ReportRow) => (x.preflight ? PREFLIGHT_VI[x.preflight] : 'Chưa kiểm tra');
const toneVi = (x: ReportRow) => (x.tone ? TONE_VI[x.tone] : '');

const KIND_VI: Record<Alert['kind'], string> = {
  quality: 'Chất lượng kém kéo dài',
  'no-video': 'Mất hình',
  'no-audio': 'Mất tiếng',
  other: 'Sự cố khác',
  headcount: 'Số đại biểu báo cáo bất thường',
  checkin: 'Điểm danh vượt số dự kiến',
  disk: 'Đĩa ghi hình sắp đầy',
};

/** Times in the briefing's zone, to the second; empty for none. */
const zoned = (v: string | null, tz: string) => (v ? formatInZone(v, tz, 'dateTimeSeconds') : '');

export function reportCsv(r: Report, tz: string): string {
  const zone = ` (${zoneLabel(tz)})`;
  const header = [
    'Mã điểm cầu',
    'Tên điểm cầu',
    'Cấp',
    'Huyện/thị/thành',
    `Vào lần đầu${zone}`,
    `Rời lần cuối${zone}`,
    'Số phút kết nối',
    'Số lần mất kết nối',
    'Số đại biểu báo cáo',
    'Số đại biểu dự kiến',
    'Số đại biểu điểm danh',
    'Trạng thái xấu nhất',
    'Số cảnh báo',
    'Kiểm tra trước',
    'Nghe thấy âm thanh thử',
    ...missedCsvHeader(r.timeline),
  ];
  const lines = r.rows.map((x) => [
    x.code,
    x.name,
    x.level,
    x.district,
    zoned(x.firstJoin, tz),
    zoned(x.lastLeave, tz),
    x.connectedMinutes,
    x.disconnects,
    x.headcount ?? '',
    x.expected,
    x.checkedIn,
    STATUS_VI[x.worstStatus],
    x.alerts,
    preflightVi(x),
    toneVi(x),
    ...missedCsvCells(x),
  ]);
  const totals = [...r.districts, r.province].map((d) => [
    'TỔNG',
    d.name,
    '',
    '',
    '',
    '',
    '',
    '',
    d.delegates,
    d.expected,
    d.checkedIn,
    `${d.connected}/${d.invited} điểm cầu kết nối`,
    '',
    '',
    '',
  ]);
  return writeCsv([header, ...lines, [], ...totals, [], ...timelineCsvRows(r.timeline, printer(tz))]);
}

/** How the report prints times (in `tz`) and escapes text, for the timeline's part too. */
const printer = (tz: string): Printer => ({ time: (v) => zoned(v, tz), esc: (v) => esc(v) });

const fmt = (n: number) => new Intl.NumberFormat('vi-VN').format(n);

export function reportHtml(r: Report, tz: string): string {
  const at = (v: string | null) => zoned(v, tz);
  const td = (v: unknown, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${esc(v)}</td>`;
  const rows = r.rows
    .map(
      (x) =>
        `<tr class="st-${esc(x.worstStatus)}">${td(x.code)}${td(x.name)}${td(x.district)}${td(at(x.firstJoin))}${td(
          at(x.lastLeave),
        )}${td(x.connectedMinutes, 'n')}${td(x.disconnects, 'n')}${td(x.headcount ?? '—', 'n')}${td(x.expected, 'n')}${td(
          x.checkedIn,
          'n',
        )}${td(STATUS_VI[x.worstStatus])}${td(x.alerts, 'n')}${td(preflightVi(x))}${td(toneVi(x))}<td>${missedHtml(r.timeline, x, printer(tz))}</td></tr>`,
    )
    .join('\n');
  const totals = [r.province, ...r.districts]
    .map(
      (d) =>
        `<tr>${td(d.name)}${td(`${fmt(d.connected)}/${fmt(d.invited)}`, 'n')}${td(
          `${fmt(d.delegates)}/${fmt(d.expected)}`,
          'n',
        )}${td(fmt(d.checkedIn), 'n')}</tr>`,
    )
    .join('\n');
  const incidents = r.incidents.length
    ? r.incidents
        .map(
          (a) =>
            `<tr>${td(at(a.raisedAt))}${td(a.pointName)}${td(
              KIND_VI[a.kind] + (a.status ? ` (${STATUS_VI[a.status]})` : ''),
            )}${td(a.note)}${td(a.assignee ?? '')}${td(a.clearedAt ? at(a.clearedAt) : 'Chưa xử lý xong')}</tr>`,
        )
        .join('\n')
    : '<tr><td colspan="6">Không có sự cố.</td></tr>';
  return printPage(
    `Báo cáo điểm danh và chất lượng kết nối — ${r.title}`,
    `<h1>Báo cáo điểm danh và chất lượng kết nối</h1>
<p class="sub">${esc(r.title)}</p>
<p>Bắt đầu: ${esc(at(r.startedAt))} · Kết thúc: ${esc(at(r.endedAt))} · Lập lúc: ${esc(at(r.generatedAt))} · Giờ ${esc(zoneLabel(tz))}</p>
<p class="big">${fmt(r.province.connected)}/${fmt(r.province.invited)} điểm cầu đã kết nối, ${fmt(
      r.province.delegates,
    )}/${fmt(r.province.expected)} đại biểu, ${fmt(r.province.checkedIn)} lượt điểm danh</p>
${timelineHtml(r.timeline, printer(tz))}
<h2>Tổng hợp theo huyện</h2>
<table><thead><tr><th>Đơn vị</th><th>Điểm cầu kết nối</th><th>Đại biểu (báo cáo/dự kiến)</th><th>Điểm danh</th></tr></thead>
<tbody>
${totals}
</tbody></table>
<h2>Sự cố</h2>
<table><thead><tr><th>Lúc</th><th>Điểm cầu</th><th>Loại</th><th>Ghi chú</th><th>Người xử lý</th><th>Đã xử lý</th></tr></thead>
<tbody>
${incidents}
</tbody></table>
<h2>Chi tiết từng điểm cầu</h2>
<table><thead><tr><th>Mã</th><th>Điểm cầu</th><th>Huyện</th><th>Vào lần đầu</th><th>Rời lần cuối</th><th>Phút kết nối</th><th>Mất kết nối</th><th>Đại biểu</th><th>Dự kiến</th><th>Điểm danh</th><th>Trạng thái xấu nhất</th><th>Cảnh báo</th><th>Kiểm tra trước</th><th>Nghe âm thanh thử</th><th>Bỏ lỡ (nội dung: phút)</th></tr></thead>
<tbody>
${rows}
</tbody></table>`,
    { bodyClass: 'report' },
  );
}

export class ReportStore {
  /** `tz`: the zone the CSV and the printable page give times in. */
  constructor(
    private readonly redis: Redis,
    private readonly tz: string,
  ) {}

  async save(r: Report): Promise<void> {
    await this.redis.hset(reportKey(r.sessionId), {
      json: JSON.stringify(r),
      csv: reportCsv(r, this.tz),
      html: reportHtml(r, this.tz),
      generatedAt: r.generatedAt,
    });
  }

  async get(s: string, format: 'json' | 'csv' | 'html'): Promise<string | null> {
    return this.redis.hget(reportKey(s), format);
  }

  async generatedAt(s: string): Promise<string | null> {
    return this.redis.hget(reportKey(s), 'generatedAt');
  }
}
