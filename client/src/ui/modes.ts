// The names of what a point receives, on its page and on the monitor.
import type { ViewerMode } from '../../../server/contract/broadcast';
import type { Text } from './i18n';

export const MODE_TEXT: Record<ViewerMode, Text> = {
  full: ['Đầy đủ', 'Full'],
  low: ['Chất lượng thấp', 'Low'],
  'audio-only': ['Chỉ âm thanh', 'Audio only'],
};
