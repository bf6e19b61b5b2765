// The alert list: open and acknowledged first, newest first; acknowledge, assign, clear.
// One row per alert, kept and updated in place.
import { RECORDER_ALERT_POINT, type Alert } from '../../../server/contract/attendance';
import { bi, plain, setBi } from '../ui/i18n';
import { el } from '../ui/shell';
import { fmtTime, KIND_TEXT, STATUS_TEXT } from './labels';

export interface AlertActions {
  ack: (id: string) => Promise<void>;
  assign: (id: string, to: string) => Promise<void>;
  clear: (id: string) => Promise<void>;
  open: (pointId: string) => void;
}

export class AlertList {
  readonly node = el('section', { className: 'alerts card', attrs: { 'data-testid': 'alerts' } });
  readonly #list = el('ol', { className: 'alert-list' });
  readonly #count = el('span', { className: 'badge' });
  readonly #rows = new Map<string, { alert: Alert; node: HTMLElement }>();
  #showCleared = false;

  constructor(private readonly actions: AlertActions) {
    const toggle = el('label', { className: 'inline' }, el('input', { attrs: { type: 'checkbox' } }));
    toggle.append(' Hiện đã xử lý · Show cleared');
    toggle.querySelector('input')!.addEventListener('change', (e) => {
      this.#showCleared = (e.target as HTMLInputElement).checked;
      for (const r of this.#rows.values()) this.#visible(r.alert, r.node);
    });
    this.node.append(
      el('div', { className: 'alerts-head' }, bi(['Cảnh báo', 'Alerts'], 'h2'), this.#count, toggle),
      this.#list,
    );
  }

  set(alerts: Alert[]): void {
    this.#rows.clear();
    this.#list.replaceChildren();
    this.upsert(alerts);
  }

  upsert(alerts: Alert[]): void {
    for (const a of alerts) {
      const cur = this.#rows.get(a.id);
      const node = this.#render(a);
      if (cur) cur.node.replaceWith(node);
      else this.#list.prepend(node);
      this.#rows.set(a.id, { alert: a, node });
    }
    const open = [...this.#rows.values()].filter((r) => r.alert.state === 'open').length;
    this.#count.textContent = String(open);
    this.#count.classList.toggle('hot', open > 0);
  }

  #visible(a: Alert, node: HTMLElement): void {
    node.classList.toggle('hidden', a.state === 'cleared' && !this.#showCleared);
  }

  #render(a: Alert): HTMLElement {
    const title = `${plain(KIND_TEXT[a.kind] ?? [a.kind, a.kind])}${a.status ? ` (${plain(STATUS_TEXT[a.status])})` : ''}`;
    // The recorder's own alerts are no point's: nothing to open.
    const pointLink =
      a.pointId === RECORDER_ALERT_POINT
        ? el('strong', { text: a.pointName })
        : el('button', { className: 'link', text: a.pointName });
    if (a.pointId !== RECORDER_ALERT_POINT) pointLink.addEventListener('click', () => this.actions.open(a.pointId));
    const state = el('span', { className: `alert-state ${a.state}` });
    setBi(
      state,
      a.state === 'open'
        ? ['Mới', 'Open']
        : a.state === 'acknowledged'
          ? [`Đã nhận${a.assignee ? ` → ${a.assignee}` : ''}`, `Acknowledged${a.assignee ? ` → ${a.assignee}` : ''}`]
          : ['Đã xử lý', 'Cleared'],
    );
    const s = a.lastSample;
    const node = el(
      'li',
      { className: `alert ${a.state}`, attrs: { 'data-alert': a.id, 'data-state': a.state } },
      el('div', { className: 'alert-top' }, pointLink, state),
      el('div', { text: `${fmtTime(a.raisedAt)} · ${title}${a.count > 1 ? ` ×${a.count}` : ''}` }),
      ...(a.note ? [el('div', { className: 'muted', text: a.note })] : []),
      ...(s
        ? [
            el('div', {
              className: 'muted small',
              text: `RTT ${s.rttMs ?? '–'} ms · loss ${s.lossPct?.toFixed(1) ?? '–'} % · ${s.bitrateKbps ?? '–'} kbit/s · ${
                s.width ?? '–'
              }×${s.height ?? '–'}`,
            }),
          ]
        : []),
    );
    if (a.state !== 'cleared') {
      const row = el('div', { className: 'row' });
      if (a.state === 'open') {
        const ack = el('button', { attrs: { 'data-testid': `ack-${a.id}` } });
        setBi(ack, ['Nhận xử lý', 'Acknowledge']);
        ack.addEventListener('click', () => void this.actions.ack(a.id));
        row.append(ack);
      }
      const who = el('input', { attrs: { type: 'text', maxlength: '80', placeholder: 'Giao cho · Assign to' } });
      const assign = el('button', {});
      setBi(assign, ['Giao', 'Assign']);
      assign.addEventListener('click', () => {
        if (who.value.trim()) void this.actions.assign(a.id, who.value.trim());
      });
      const clear = el('button', {});
      setBi(clear, ['Đã xử lý', 'Resolve']);
      clear.addEventListener('click', () => void this.actions.clear(a.id));
      row.append(who, assign, clear);
      node.append(row);
    }
    this.#visible(a, node);
    return node;
  }
}
