// One point's detail: live charts of RTT, loss, bitrate and freezes for the session, its
// pre-flight result, presence, connection events, alerts, and its delegates' check-ins
// (the desk voids a suspicious one here, with a reason; it stays listed, struck through).
import type { CheckinEntry, HealthSample, PointDetail } from '../../../server/contract/attendance';
import { bi, plain, setBi } from '../ui/i18n';
import { el } from '../ui/shell';
import { eventText } from './events';
import { fmtTime, KIND_TEXT, LEVEL_TEXT, STATUS_TEXT } from './labels';
import { TONE_TEXT } from './preflight-board';
import { sparkline, type Sparkline } from './sparkline';

export class DetailPanel {
  readonly node = el('aside', { className: 'detail hidden', attrs: { 'data-testid': 'point-detail' } });
  pointId: string | undefined;
  #charts: { rtt: Sparkline; loss: Sparkline; bitrate: Sparkline; freeze: Sparkline } | undefined;
  #statusLine = el('p', { className: 'detail-status', attrs: { 'data-testid': 'detail-status' } });

  /** `extras` go under the status line (controls the page owns, e.g. the point's mode). */
  constructor(
    private readonly onClose: () => void,
    private readonly onVoid: (pointId: string, checkinId: string, reason: string) => Promise<void>,
    private readonly extras: HTMLElement[] = [],
  ) {}

  show(d: PointDetail): void {
    this.pointId = d.tile.id;
    const close = el('button', { className: 'close', text: '×', attrs: { 'aria-label': 'Đóng · Close' } });
    close.addEventListener('click', () => {
      this.hide();
      this.onClose();
    });
    const charts = {
      rtt: sparkline('RTT · độ trễ', 'ms', { max: 300 }),
      loss: sparkline('Mất gói · loss', '%', { max: 5 }),
      bitrate: sparkline('Tốc độ nhận · bitrate', 'kbit/s', { max: 1000 }),
      freeze: sparkline('Đứng hình · freezes', 'ms', { max: 500 }),
    };
    this.#charts = charts;
    this.#fill(d.history);
    this.#status(d.tile.status, d.tile.statusSince);
    const p = d.presence;
    const pre = d.preflight;
    this.node.replaceChildren(
      el('div', { className: 'detail-head' }, el('h2', { text: d.tile.name }), close),
      el('p', {
        className: 'muted',
        text: `${plain(LEVEL_TEXT[d.tile.level] ?? [d.tile.level, d.tile.level])} · ${d.tile.districtName} · ${
          d.contactName
        } ${d.contactPhone}`,
      }),
      this.#statusLine,
      ...this.extras,
      el(
        'dl',
        { className: 'facts' },
        el('dt', { text: 'Vào lần đầu · First join' }),
        el('dd', { text: fmtTime(p.firstJoin) }),
        el('dt', { text: 'Thời gian kết nối · Connected' }),
        el('dd', { text: `${Math.round(p.connectedSeconds / 60)} phút · min` }),
        el('dt', { text: 'Mất kết nối · Disconnects' }),
        el('dd', { text: String(p.disconnects) }),
        // The page's media watchdog: rebuilds since it loaded (the events below say when).
        el('dt', { text: 'Tự dựng lại hình · Media rebuilds' }),
        el('dd', {
          text: String([...d.history].reverse().find((h) => h.mediaRebuilds != null)?.mediaRebuilds ?? 0),
          attrs: { 'data-testid': 'detail-media-rebuilds' },
        }),
        el('dt', { text: 'Đại biểu · Headcount' }),
        el('dd', {
          text: d.headcount
            ? `${d.headcount.count}/${d.tile.expected} (${fmtTime(d.headcount.at)}, ${d.headcount.by})`
            : `–/${d.tile.expected}`,
        }),
        el('dt', { text: 'Điểm danh · Checked in' }),
        el('dd', { text: String(d.tile.checkedIn) }),
        el('dt', { text: 'Kiểm tra trước · Pre-flight' }),
        el('dd', {
          text: pre
            ? `${pre.result.toUpperCase()} · ${pre.transport.toUpperCase()}${pre.rttMs !== null ? ` ${pre.rttMs} ms` : ''}${
                pre.downlinkKbps !== null ? ` · ${pre.downlinkKbps} kbit/s` : ''
              }${pre.tone ? ` · ${plain(TONE_TEXT[pre.tone])}` : ''}`
            : '—',
          attrs: { 'data-testid': 'detail-preflight' },
        }),
      ),
      ...(pre?.reasons.length
        ? [el('ul', { className: 'reasons' }, ...pre.reasons.map((r) => el('li', { text: r })))]
        : []),
      el('div', { className: 'charts' }, charts.rtt.node, charts.loss.node, charts.bitrate.node, charts.freeze.node),
      bi(['Cảnh báo', 'Alerts'], 'h3'),
      d.alerts.length
        ? el(
            'ul',
            { className: 'point-alerts' },
            ...d.alerts.map((a) =>
              el('li', {
                text: `${fmtTime(a.raisedAt)} ${plain(KIND_TEXT[a.kind] ?? [a.kind, a.kind])} — ${a.state}${
                  a.assignee ? ` → ${a.assignee}` : ''
                }`,
              }),
            ),
          )
        : el('p', { className: 'muted', text: 'Không có · None' }),
      bi(['Điểm danh', 'Check-ins'], 'h3'),
      this.#checkins(d.tile.id, d.checkins),
      bi(['Sự kiện kết nối', 'Connection events'], 'h3'),
      el(
        'ol',
        { className: 'events', attrs: { 'data-testid': 'detail-events' } },
        ...d.events
          .slice(-50)
          .reverse()
          .map((e) => el('li', { attrs: { 'data-type': e.type } }, `${fmtTime(e.at)} `, bi(eventText(e)))),
      ),
    );
    this.node.classList.remove('hidden');
  }

  #checkins(pointId: string, list: CheckinEntry[]): HTMLElement {
    if (list.length === 0) return el('p', { className: 'muted', text: 'Chưa có · None yet' });
    return el(
      'ul',
      { className: 'point-checkins', attrs: { 'data-testid': 'detail-checkins' } },
      ...list.map((c) => {
        const who = `${fmtTime(c.at)} ${c.name}${c.position ? ` — ${c.position}` : ''}`;
        const row = el('li', { attrs: { 'data-checkin': c.id } });
        if (c.voided) {
          row.classList.add('voided');
          row.append(
            el('s', { text: who }),
            el('span', {
              className: 'muted',
              text: ` · đã huỷ · voided: ${c.voided.by}, ${fmtTime(c.voided.at)}, ${c.voided.reason}`,
            }),
          );
          return row;
        }
        const reason = el('input', {
          attrs: { type: 'text', maxlength: '200', placeholder: 'Lý do · Reason', 'data-testid': 'void-reason' },
        });
        const button = el('button', { attrs: { type: 'button', 'data-testid': 'void-checkin' } });
        setBi(button, ['Huỷ', 'Void']);
        button.addEventListener('click', () => {
          if (!reason.value.trim()) return reason.focus();
          button.disabled = true;
          void this.onVoid(pointId, c.id, reason.value.trim()).finally(() => (button.disabled = false));
        });
        row.append(el('span', { text: who }), reason, button);
        return row;
      }),
    );
  }

  #fill(history: HealthSample[]): void {
    const c = this.#charts!;
    c.rtt.set(history.map((h) => h.rttMs));
    c.loss.set(history.map((h) => h.lossPct));
    c.bitrate.set(history.map((h) => h.bitrateKbps));
    c.freeze.set(history.map((h) => h.freezeMs));
  }

  #status(status: PointDetail['tile']['status'], since: string | null): void {
    this.#statusLine.className = `detail-status st-${status}`;
    this.#statusLine.dataset.status = status;
    this.#statusLine.textContent = `${plain(STATUS_TEXT[status])}${since ? ` · từ · since ${fmtTime(since)}` : ''}`;
  }

  /** A live sample of the shown point. */
  sample(s: HealthSample): void {
    const c = this.#charts;
    if (!c) return;
    c.rtt.push(s.rttMs);
    c.loss.push(s.lossPct);
    c.bitrate.push(s.bitrateKbps);
    c.freeze.push(s.freezeMs);
  }

  /** The shown point's tile changed (from a delta). */
  tile(t: PointDetail['tile']): void {
    if (t.id === this.pointId) this.#status(t.status, t.statusSince);
  }

  hide(): void {
    this.pointId = undefined;
    this.#charts = undefined;
    this.node.classList.add('hidden');
  }
}
