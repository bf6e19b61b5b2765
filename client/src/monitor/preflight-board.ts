// The fleet pre-flight board on the monitor's toolbar: how many points passed, warned,
// failed or have not run the check, a filter on it, and asking every point to run it
// again. The verdicts are on the tiles (./grid.ts).
import type { PointTile } from '../../../server/contract/attendance';
import type { ToneAnswer } from '../../../server/contract/broadcast';
import { plain, type Text } from '../ui/i18n';
import { el } from '../ui/shell';

export type PreflightVerdict = 'pass' | 'warn' | 'fail' | 'none';

export const PREFLIGHT_TEXT: Record<PreflightVerdict, Text> = {
  pass: ['Đạt', 'Pass'],
  warn: ['Cảnh báo', 'Warning'],
  fail: ['Không đạt', 'Fail'],
  none: ['Chưa kiểm tra', 'Not run'],
};

/** The answer to "did you hear the tone?" of the speaker check. */
export const TONE_TEXT: Record<ToneAnswer, Text> = {
  heard: ['Nghe thấy âm thanh thử', 'Tone heard'],
  'not-heard': ['Không nghe thấy âm thanh thử', 'Tone not heard'],
  unanswered: ['Chưa trả lời về âm thanh thử', 'Tone question unanswered'],
};

/** A tile's mark for its verdict. */
export const PREFLIGHT_MARK: Record<PreflightVerdict, string> = { pass: '✓', warn: '!', fail: '✗', none: '' };

export const verdictOf = (t: PointTile): PreflightVerdict => t.preflight ?? 'none';

export class PreflightBoard {
  readonly filter = el('select', {
    attrs: { 'aria-label': 'Kiểm tra trước · Pre-flight', 'data-testid': 'filter-preflight' },
  });
  readonly #counts = el('span', { className: 'pf-counts', attrs: { 'data-testid': 'preflight-counts' } });
  readonly #all = el('button', {
    text: 'Kiểm tra lại tất cả · Check all again',
    attrs: { type: 'button', 'data-testid': 'preflight-rerun-all' },
  });
  readonly #noTone = el('span', { className: 'pf pf-no-tone', attrs: { 'data-testid': 'preflight-no-tone' } });
  readonly node = el('span', { className: 'pf-board' }, this.#counts, this.#noTone, this.filter, this.#all);

  /** `rerunAll` asks every point of the watched session to run its check again. */
  constructor(rerunAll: () => Promise<void>) {
    this.filter.append(el('option', { text: 'Mọi kết quả kiểm tra · Any pre-flight', attrs: { value: '' } }));
    for (const [k, t] of Object.entries(PREFLIGHT_TEXT))
      this.filter.append(el('option', { text: plain(t), attrs: { value: k } }));
    this.#all.addEventListener('click', () => {
      this.#all.disabled = true;
      void rerunAll().finally(() => (this.#all.disabled = false));
    });
  }

  /** `noTone`: points that did not hear the test tone. */
  show(counts: Record<PreflightVerdict, number>, noTone = 0): void {
    this.#noTone.textContent = noTone ? `🔇 ${noTone} ${plain(TONE_TEXT['not-heard'])}` : '';
    this.#noTone.dataset.count = String(noTone);
    this.#counts.replaceChildren(
      ...(Object.keys(PREFLIGHT_TEXT) as PreflightVerdict[]).map((k) =>
        el('span', {
          className: `pf pf-${k}`,
          text: `${PREFLIGHT_MARK[k] || '·'} ${counts[k]} ${PREFLIGHT_TEXT[k][0]}`,
          attrs: { 'data-count': k, title: plain(PREFLIGHT_TEXT[k]) },
        }),
      ),
    );
  }
}
