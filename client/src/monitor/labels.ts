// Words of the monitor, Vietnamese first.
import type { HealthStatus } from '../../../server/contract/attendance';
import type { Text } from '../ui/i18n';
import { showTime } from '../ui/time';

export const STATUS_TEXT: Record<HealthStatus, Text> = {
  good: ['Tốt', 'Good'],
  degraded: ['Giảm chất lượng', 'Degraded'],
  poor: ['Kém', 'Poor'],
  lost: ['Mất kết nối', 'Lost'],
  connecting: ['Đang kết nối', 'Connecting'],
  offline: ['Chưa kết nối', 'Offline'],
};

export const LEVEL_TEXT: Record<string, Text> = {
  province: ['Tỉnh', 'Province'],
  district: ['Huyện', 'District'],
  commune: ['Xã', 'Commune'],
  agency: ['Sở, ngành', 'Agency'],
};

export const KIND_TEXT: Record<string, Text> = {
  quality: ['Chất lượng kém kéo dài', 'Poor for too long'],
  'no-video': ['Mất hình', 'No picture'],
  'no-audio': ['Mất tiếng', 'No sound'],
  other: ['Sự cố khác', 'Other problem'],
  headcount: ['Số đại biểu báo cáo bất thường', 'Headcount out of line'],
  checkin: ['Điểm danh vượt số dự kiến', 'More check-ins than expected'],
  disk: ['Đĩa ghi hình sắp đầy', 'Recordings disk filling up'],
};

export const fmtNum = (n: number) => new Intl.NumberFormat('vi-VN').format(n);
/** A time of day in the briefing's zone (the page says which zone beside the session). */
export const fmtTime = (iso: string | null) => showTime(iso, 'time');
