// The common frame of every page: title in Vietnamese with English beside it.
// Text goes in with textContent only: no user text is ever parsed as HTML.
export interface Bilingual {
  vi: string;
  en: string;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: { className?: string; text?: string; attrs?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (props.className) node.className = props.className;
  if (props.text !== undefined) node.textContent = props.text;
  for (const [k, v] of Object.entries(props.attrs ?? {})) node.setAttribute(k, v);
  for (const c of children) node.append(c);
  return node;
}

/**
 * English beside the Vietnamese, marked as English: the pages are Vietnamese
 * (`<html lang="vi">`), so screen readers would read it with Vietnamese sounds otherwise.
 */
export function english(text: string): HTMLSpanElement {
  return el('span', { className: 'en', text, attrs: { lang: 'en' } });
}

export function mountShell(opts: { title: Bilingual }): HTMLElement {
  document.title = `${opts.title.vi} · ${opts.title.en}`;
  const main = el('main', { attrs: { id: 'app' } });
  document.body.replaceChildren(
    el('header', { className: 'topbar' }, el('h1', { text: opts.title.vi }), english(opts.title.en)),
    main,
  );
  return main;
}
