// The conversation between the desk and a point, as both the monitor and the point page
// draw it: a list of messages (who, when, to whom) and a box to write the next one.
import type { TalkMessage } from '../../../server/contract/desk';
import { TALK_TEXT_MAX } from '../../../server/contract/desk-limits';
import { plain, setBi, type Text } from './i18n';
import { el } from './shell';
import { showTime } from './time';

/** Where a desk message went, as the reader sees it. */
const TO_TEXT: Record<'point' | 'district' | 'all', Text> = {
  point: ['riêng điểm cầu', 'this point'],
  district: ['cả huyện', 'the district'],
  all: ['mọi điểm cầu', 'every point'],
};

/** One message: time, who wrote it (the desk says to whom), the text as text. */
export function talkLine(m: TalkMessage): HTMLElement {
  const who =
    m.from === 'point'
      ? m.by
      : `${plain(['Bàn kỹ thuật', 'Desk'])} (${m.by}) → ${plain(TO_TEXT[m.to?.kind ?? 'point'])}`;
  return el(
    'li',
    { className: `talk-${m.from}`, attrs: { 'data-from': m.from, 'data-id': m.id } },
    el('span', { className: 'talk-meta', text: `${showTime(m.at, 'time')} ${who}` }),
    el('span', { className: 'talk-text', text: m.text }),
  );
}

/** A list of messages with a box and a Send button; `extra` controls go before the button. */
export class TalkBox {
  readonly list = el('ol', { className: 'talk-list', attrs: { 'data-testid': 'talk-list', 'aria-live': 'polite' } });
  readonly input = el('textarea', {
    attrs: { rows: '2', maxlength: String(TALK_TEXT_MAX), 'data-testid': 'talk-input' },
  });
  readonly send = el('button', { attrs: { type: 'button', 'data-testid': 'talk-send' } });
  readonly out = el('p', { className: 'muted', attrs: { role: 'status', 'data-testid': 'talk-status' } });
  readonly #seen = new Set<string>();

  constructor(
    placeholder: Text,
    submit: (text: string) => Promise<void>,
    readonly form: HTMLElement = el('div', { className: 'talk-form' }),
    extra: HTMLElement[] = [],
  ) {
    this.input.placeholder = plain(placeholder);
    setBi(this.send, ['Gửi', 'Send']);
    form.append(this.input, ...extra, this.send);
    const go = () => {
      const text = this.input.value.trim();
      if (!text) return this.input.focus();
      this.send.disabled = true;
      submit(text)
        .then(() => {
          this.input.value = '';
          this.out.textContent = '';
        })
        .catch(() => undefined)
        .finally(() => (this.send.disabled = false));
    };
    this.send.addEventListener('click', go);
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        go();
      }
    });
  }

  /** Replaces the list (a history read). */
  set(messages: TalkMessage[]): void {
    this.#seen.clear();
    this.list.replaceChildren();
    for (const m of messages) this.add(m);
  }

  /** Adds a message once (a push may repeat what a history read brought). */
  add(m: TalkMessage): boolean {
    if (this.#seen.has(m.id)) return false;
    this.#seen.add(m.id);
    this.list.append(talkLine(m));
    this.list.scrollTop = this.list.scrollHeight;
    return true;
  }
}
