// The timeline's part of the report: the agenda items as they ran (start, end, minutes,
// the points given the floor), every recorded change, and per point what it missed of
// each item. Vietnamese first, English beside. The report passes its own time format and
// HTML escaping, so both halves print alike.
import type { ReportRow } from '../../contract/attendance';
import type { ReportTimeline, TimelineEntry } from '../../contract/timeline';

export interface Printer {
  /** An instant as the report prints it. */
  time: (iso: string | null) => string;
  /** Text made safe for HTML. */
  esc: (v: unknown) => string;
}

const STATE_VI: Record<string, string> = {
  draft: 'Bản nháp',
  scheduled: 'Đã lên lịch',
  lobby: 'Phòng chờ',
  live: 'Đang diễn ra',
  ended: 'Đã kết thúc',
  cancelled: 'Đã hủy',
};

const HALL_VI: Record<string, string> = { console: 'bàn điều khiển', whip: 'bộ mã hóa (WHIP)', ingest: 'luồng ingest' };

const minutes = (seconds: number) => Math.round(seconds / 6) / 10;
const viMinutes = (seconds: number) => new Intl.NumberFormat('vi-VN').format(minutes(seconds));

export function describeEntry(e: TimelineEntry): string {
  switch (e.type) {
    case 'state':
      return `Trạng thái: ${STATE_VI[e.to] ?? e.to} · ${e.to} (${e.by})`;
    case 'agenda':
      return `Nội dung ${e.index + 1}: ${e.title} · agenda item ${e.index + 1}`;
    case 'pause':
      if (e.kind === 'video') return e.paused ? 'Tạm dừng hình · camera paused' : 'Tiếp tục hình · camera resumed';
      return e.paused ? 'Tắt tiếng hội trường · microphone paused' : 'Bật tiếng hội trường · microphone resumed';
    case 'slides':
      return e.on ? 'Bắt đầu trình chiếu · slides on' : 'Dừng trình chiếu · slides off';
    case 'floor':
      return e.granted
        ? `Giao quyền phát biểu: ${e.name} · floor given`
        : `Kết thúc phát biểu: ${e.name} · floor taken back`;
    case 'hall':
      return e.source
        ? `Nguồn hình hội trường: ${HALL_VI[e.source]} · hall source ${e.source}`
        : 'Mất nguồn hình hội trường · no hall source';
  }
}

const itemLabel = (t: ReportTimeline, k: number) => `${t.items[k]!.index + 1}. ${t.items[k]!.title}`;

/** Per-point columns: minutes missed of each item. */
export function missedCsvHeader(t: ReportTimeline): string[] {
  return t.items.map((_, k) => `Bỏ lỡ (phút): ${itemLabel(t, k)}`);
}

export function missedCsvCells(row: ReportRow): number[] {
  return row.missedSeconds.map(minutes);
}

/** Rows after the totals: the items as they ran, then every change. */
export function timelineCsvRows(t: ReportTimeline, p: Printer): (string | number)[][] {
  const items = t.items.map((it) => [
    it.index + 1,
    it.title,
    it.speaker,
    p.time(it.startedAt),
    p.time(it.endedAt),
    minutes(it.seconds),
    it.floor.map((f) => `${f.name} (${viMinutes(f.seconds)} phút)`).join('; '),
  ]);
  const entries = t.entries.map((e) => [p.time(e.at), describeEntry(e)]);
  return [
    ['DIỄN BIẾN HỘI NGHỊ · TIMELINE'],
    ['Nội dung số', 'Nội dung', 'Người trình bày', 'Bắt đầu', 'Kết thúc', 'Số phút', 'Phát biểu từ điểm cầu'],
    ...items,
    [],
    ['NHẬT KÝ ĐIỀU HÀNH · LOG'],
    ['Lúc', 'Sự kiện'],
    ...entries,
  ];
}

/** The per-point cell: the items it missed part of, or a dash. */
export function missedHtml(t: ReportTimeline, row: ReportRow, p: Printer): string {
  const parts = row.missedSeconds.flatMap((s, k) =>
    s > 0 ? [`${p.esc(t.items[k]!.index + 1)}: ${p.esc(viMinutes(s))} phút`] : [],
  );
  return parts.length ? parts.join('<br>') : '—';
}

export function timelineHtml(t: ReportTimeline, p: Printer): string {
  const td = (v: unknown, cls = '') => `<td${cls ? ` class="${cls}"` : ''}>${p.esc(v)}</td>`;
  const items = t.items.length
    ? t.items
        .map((it) => {
          const floor = it.floor.length
            ? it.floor.map((f) => `${p.esc(f.name)} (${p.esc(viMinutes(f.seconds))} phút)`).join('<br>')
            : '—';
          return `<tr>${td(it.index + 1, 'n')}${td(it.title)}${td(it.speaker)}${td(p.time(it.startedAt))}${td(
            p.time(it.endedAt),
          )}${td(viMinutes(it.seconds), 'n')}<td>${floor}</td></tr>`;
        })
        .join('\n')
    : '<tr><td colspan="7">Chưa có nội dung nào được phát · no agenda item went on the air.</td></tr>';
  const entries = t.entries.map((e) => `<tr>${td(p.time(e.at))}${td(describeEntry(e))}</tr>`).join('\n');
  return `<h2>Diễn biến hội nghị · Timeline</h2>
<table class="timeline"><thead><tr><th>Nội dung</th><th>Tiêu đề</th><th>Người trình bày</th><th>Bắt đầu</th><th>Kết thúc</th><th>Số phút</th><th>Phát biểu từ điểm cầu</th></tr></thead>
<tbody>
${items}
</tbody></table>
<h2>Nhật ký điều hành · Log</h2>
<table class="log"><thead><tr><th>Lúc</th><th>Sự kiện</th></tr></thead>
<tbody>
${entries}
</tbody></table>`;
}
