// Words of the domain shared by several pages, Vietnamese first.
import type { PointLevel, SessionState } from '../../../server/contract/api';
import type { Text } from './i18n';

export const STATE_TEXT: Record<SessionState, Text> = {
  draft: ['Nháp', 'Draft'],
  scheduled: ['Đã lên lịch', 'Scheduled'],
  lobby: ['Phòng chờ', 'Lobby'],
  live: ['Đang diễn ra', 'Live'],
  ended: ['Đã kết thúc', 'Ended'],
  cancelled: ['Đã hủy', 'Cancelled'],
};

export const LEVEL_TEXT: Record<PointLevel, Text> = {
  province: ['Tỉnh', 'Province'],
  district: ['Huyện/Thị/Thành', 'District'],
  commune: ['Xã/Phường', 'Commune'],
  agency: ['Cơ quan', 'Agency'],
};
