// How the Recordings view says sizes, lengths, the archive's state and why a gap happened.
import type { RecordingSummary } from '../../../server/contract/recording';
import { plain, type Text } from '../ui/i18n';

/** 1 234 567 bytes → "1,2 MB" (decimal units, as players and file managers show them). */
export function bytesText(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = n;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v.toLocaleString('vi-VN', { maximumFractionDigits: i === 0 ? 0 : 1 })} ${units[i]}`;
}

/** Seconds as h:mm:ss. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const pad = (x: number) => String(x).padStart(2, '0');
  return `${Math.floor(s / 3600)}:${pad(Math.floor(s / 60) % 60)}:${pad(s % 60)}`;
}

/** The archive as the list shows it: ready, being made (with its progress), failed, or none yet. */
export function archiveState(r: Pick<RecordingSummary, 'state' | 'archive' | 'job'>): string {
  const job = r.job;
  if (job?.state === 'running') return plain([`Đang tạo ${job.progress}%`, `Making ${job.progress}%`]);
  if (job?.state === 'queued') return plain(['Đang chờ tạo', 'Queued']);
  if (job?.state === 'failed' && !r.archive) return plain(['Tạo lỗi', 'Failed']);
  if (r.archive) return plain(['Sẵn sàng', 'Ready']);
  if (r.state === 'recording') return plain(['Đang ghi hình', 'Recording']);
  return plain(['Chưa có', 'None yet']);
}

const GAP_REASON: Record<string, Text> = {
  'worker-died': ['tiến trình media dừng', 'media worker died'],
  'recorder-died': ['bộ ghi dừng', 'recorder died'],
  'server-restart': ['máy chủ khởi động lại', 'server restarted'],
  'disk-full': ['hết dung lượng đĩa', 'disk full'],
};

export const gapReason = (reason: string): string => (GAP_REASON[reason] ? plain(GAP_REASON[reason]) : reason);

const STOP_REASON: Record<string, Text> = {
  'disk-full': ['đĩa ghi hình gần đầy', 'the recordings disk was nearly full'],
  failed: ['không khởi động được bộ ghi', 'the recorder could not start'],
};

export const stopReasonText = (reason: string): Text => STOP_REASON[reason] ?? [reason, reason];
export const stopReason = (reason: string): string => plain(stopReasonText(reason));
