// The Recordings tab (admins and hosts): every recorded session, newest first, with its
// length, size, tracks, gaps and the archive job's progress; one opens below the list
// (./recording-detail.ts: the player with its chapters, checksums, download, delete).
import type { Role } from '../../../server/contract/api';
import type { RecordingSummary } from '../../../server/contract/recording';
import { call } from './api';
import { archiveState, bytesText, durationText } from './recording-words';
import { recordingDetail } from './recording-detail';
import { bi, button, el, row, statusLine, table, when } from './ui';

/** While an archive is being made, the list asks again this often. */
const POLL_MS = 2000;

export function recordingsView(role: Role): HTMLElement {
  const status = statusLine();
  const list = el('div', { attrs: { 'data-testid': 'recordings-list' } });
  const detail = el('div', { attrs: { 'data-testid': 'recording-detail' } });
  let openId: string | undefined;
  let closeDetail: (() => void) | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  function open(id: string | undefined) {
    closeDetail?.();
    closeDetail = undefined;
    openId = id;
    detail.replaceChildren();
    if (!id) return;
    const d = recordingDetail(id, role, {
      deleted: () => {
        open(undefined);
        void load();
      },
      changed: () => void load(),
    });
    closeDetail = d.close;
    detail.append(d.node);
  }

  async function load() {
    clearTimeout(timer);
    let items: RecordingSummary[];
    try {
      items = await call<RecordingSummary[]>('GET', '/recordings');
      status.clear();
    } catch (err) {
      status.error(err);
      return;
    }
    list.replaceChildren(
      items.length === 0
        ? bi(['Chưa có bản ghi nào', 'No recordings yet'], 'p')
        : table(
            [
              ['Phiên họp', 'Session'],
              ['Bắt đầu', 'Started'],
              ['Thời lượng', 'Duration'],
              ['Dung lượng', 'Size'],
              ['Bản lưu trữ', 'Archive'],
              ['', ''],
            ],
            items.map((r) => {
              const tr = row(
                r.title,
                when(r.startedAt),
                durationText(r.seconds),
                bytesText(r.bytes + (r.archive?.bytes ?? 0)),
                archiveState(r),
                button(['Xem', 'Open'], () => open(r.sessionId)),
              );
              tr.setAttribute('data-session', r.sessionId);
              if (r.sessionId === openId) tr.className = 'current';
              return tr;
            }),
          ),
    );
    // Follow a recording still going on or an archive being made.
    const moving = items.some(
      (r) => r.state === 'recording' || r.job?.state === 'queued' || r.job?.state === 'running',
    );
    if (moving && list.isConnected) timer = setTimeout(() => void load(), POLL_MS);
  }

  const node = el(
    'section',
    { attrs: { 'data-testid': 'recordings-view' } },
    bi(['Bản ghi hội nghị', 'Recordings'], 'h2'),
    el('div', { className: 'controls' }, button(['Làm mới', 'Refresh'], load)),
    status.node,
    list,
    detail,
  );
  void load();
  return node;
}
