// Vietnamese first, English beside it: every user-facing string is a pair.
import { el, english } from './shell';

export type Text = readonly [vi: string, en: string];

/** An element showing the Vietnamese text with the English in a smaller line. */
export function bi(text: Text, tag: 'span' | 'div' | 'p' | 'h2' | 'h3' | 'button' | 'label' = 'span'): HTMLElement {
  return el(tag, {}, el('span', { className: 'vi', text: text[0] }), english(text[1]));
}

export function plain(text: Text): string {
  return `${text[0]} · ${text[1]}`;
}

export function setBi(node: HTMLElement, text: Text): void {
  node.replaceChildren(el('span', { className: 'vi', text: text[0] }), english(text[1]));
}

export function formatCountdown(ms: number): string {
  if (ms <= 0) return '00:00';
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${pad(m)}:${pad(s % 60)}`;
}
