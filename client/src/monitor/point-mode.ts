// The desk's switch of what a point receives (full, low, audio only), in the point's
// detail: shows the kept mode and who chose it, and sets it for the point (its page
// applies it, now or when it comes back).
import type { PointMode, ViewerMode } from '../../../server/contract/broadcast';
import { bi, plain } from '../ui/i18n';
import { MODE_TEXT } from '../ui/modes';
import { el } from '../ui/shell';
import { fmtTime } from './labels';

export class PointModeControl {
  readonly #select = el(
    'select',
    { attrs: { 'data-testid': 'detail-mode', 'aria-label': 'Chế độ nhận · Receive mode' } },
    ...Object.entries(MODE_TEXT).map(([value, t]) => el('option', { text: plain(t), attrs: { value } })),
  );
  readonly #who = el('span', { className: 'muted', attrs: { 'data-testid': 'detail-mode-by' } });
  readonly node = el('div', { className: 'point-mode' }, bi(['Chế độ nhận', 'Receive mode']), this.#select, this.#who);

  /** `set` asks the server to set the shown point's mode and answers the kept one. */
  constructor(set: (mode: ViewerMode) => Promise<PointMode>) {
    this.#select.addEventListener('change', () => {
      this.#select.disabled = true;
      set(this.#select.value as ViewerMode)
        .then((m) => this.show(m))
        .catch(() => undefined)
        .finally(() => (this.#select.disabled = false));
    });
  }

  show(m: PointMode): void {
    this.#select.value = m.mode;
    this.#who.textContent = m.at
      ? m.by === 'desk'
        ? ` bàn kỹ thuật chọn lúc ${fmtTime(m.at)} · set by the desk`
        : ` điểm cầu chọn lúc ${fmtTime(m.at)} · chosen by the point`
      : '';
  }
}
