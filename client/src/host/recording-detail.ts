// One recording in the Recordings tab: the archive's player with its chapter list (a
// click seeks to the agenda item), its download, the archive job's progress, size,
// duration, gaps, every file's sha256 and a check of them, making the archive again and,
// for admins, deleting it (asked first; the server logs who did).
import type { Role } from '../../../server/contract/api';
import type { ArchiveInfo, RecordingDetail, RecordingVerify } from '../../../server/contract/recording';
import { plain } from '../ui/i18n';
import { API, call } from './api';
import { archiveState, bytesText, durationText, gapReason, stopReason } from './recording-words';
import { bi, button, el, row, statusLine, table, when } from './ui';

const POLL_MS = 2000;
/** After the stop, how long the view waits for the archive job to appear. */
const JOB_WAIT_MS = 60_000;
/** Segment checksums listed on screen; the verify button checks every one. */
const SEGMENTS_SHOWN = 200;

export interface RecordingDetailHooks {
  deleted: () => void;
  /** The archive job moved (queued again, finished): the list redraws its line. */
  changed: () => void;
}

export function recordingDetail(
  sessionId: string,
  role: Role,
  hooks: RecordingDetailHooks,
): { node: HTMLElement; close: () => void } {
  const status = statusLine();
  const title = el('h3');
  const facts = el('dl', { className: 'facts', attrs: { 'data-testid': 'recording-facts' } });
  const job = el('div', { attrs: { 'data-testid': 'archive-job' } });
  const player = el('div', { className: 'archive-player' });
  const checks = el('div', { attrs: { 'data-testid': 'recording-checksums' } });
  const verifyResult = el('p', { attrs: { 'data-testid': 'verify-result' } });
  const actions = el('div', { className: 'controls' });
  const base = `${API}/recordings/${encodeURIComponent(sessionId)}`;
  let shownArchive: string | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let lastJob = '';

  const fact = (label: Parameters<typeof bi>[0], value: string, testid?: string) => [
    el('dt', {}, bi(label)),
    el('dd', { text: value, attrs: testid ? { 'data-testid': testid } : {} }),
  ];

  function drawPlayer(a: ArchiveInfo | null) {
    const key = a ? `${a.madeAt}:${a.sha256}` : undefined;
    if (key === shownArchive) return;
    shownArchive = key;
    if (!a) {
      player.replaceChildren(bi(['Chưa có bản lưu trữ', 'No archive yet'], 'p'));
      return;
    }
    const video = el('video', {
      attrs: { controls: '', preload: 'metadata', src: `${base}/archive`, 'data-testid': 'archive-video' },
    });
    const chapters = el(
      'ol',
      { className: 'chapters', attrs: { 'data-testid': 'chapters' } },
      ...a.chapters.map((c) => {
        const b = el('button', {
          text: `${c.title} (${durationText(c.startMs / 1000)})`,
          attrs: { type: 'button', 'data-start-ms': String(c.startMs) },
        });
        b.addEventListener('click', () => {
          video.currentTime = c.startMs / 1000;
          void video.play().catch(() => undefined);
        });
        return el('li', {}, b);
      }),
    );
    const download = el('a', {
      attrs: { href: `${base}/archive?download`, download: '', 'data-testid': 'archive-download' },
    });
    download.append(bi(['Tải bản lưu trữ', 'Download the archive']));
    player.replaceChildren(
      video,
      bi(['Các phần (theo chương trình)', 'Chapters (agenda items)'], 'h3'),
      chapters,
      el('p', {}, download),
      el(
        'p',
        { className: 'muted' },
        bi([
          `${a.file}, ${bytesText(a.bytes)}, ${durationText(a.seconds)}, tạo lúc ${when(a.madeAt)} trong ${a.encodeSeconds} s`,
          `${a.file}, ${bytesText(a.bytes)}, ${durationText(a.seconds)}, made ${when(a.madeAt)} in ${a.encodeSeconds} s`,
        ]),
      ),
    );
  }

  function drawChecks(d: RecordingDetail) {
    const segments = d.manifest.tracks.flatMap((t) => t.segments);
    const rows = [
      ...(d.archive ? [row(d.archive.file, bytesText(d.archive.bytes), el('code', { text: d.archive.sha256 }))] : []),
      ...segments.slice(0, SEGMENTS_SHOWN).map((s) => row(s.file, bytesText(s.bytes), el('code', { text: s.sha256 }))),
    ];
    const more =
      segments.length > SEGMENTS_SHOWN
        ? [
            bi(
              [`… và ${segments.length - SEGMENTS_SHOWN} tệp nữa`, `… and ${segments.length - SEGMENTS_SHOWN} more`],
              'p',
            ),
          ]
        : [];
    const box = el('details', {}, el('summary', { text: plain(['Mã kiểm tra SHA-256', 'SHA-256 checksums']) }));
    box.append(
      table(
        [
          ['Tệp', 'File'],
          ['Dung lượng', 'Size'],
          ['SHA-256', 'SHA-256'],
        ],
        rows,
      ),
      ...more,
    );
    checks.replaceChildren(box);
  }

  function draw(d: RecordingDetail) {
    title.textContent = d.title;
    const gaps = d.manifest.gaps.map((g) => `${when(g.from)} → ${g.to ? when(g.to) : '…'} (${gapReason(g.reason)})`);
    facts.replaceChildren(
      ...fact(
        ['Trạng thái', 'State'],
        d.state === 'recording' ? plain(['Đang ghi hình', 'Recording']) : plain(['Đã dừng', 'Stopped']),
      ),
      ...fact(['Bắt đầu', 'Started'], when(d.startedAt)),
      ...fact(['Kết thúc', 'Stopped'], when(d.stoppedAt)),
      ...fact(['Thời lượng', 'Duration'], durationText(d.seconds), 'recording-duration'),
      ...fact(['Dung lượng bản ghi', 'Recorded size'], bytesText(d.bytes), 'recording-size'),
      ...fact(['Số luồng', 'Tracks'], String(d.tracks)),
      ...fact(['Khoảng mất', 'Gaps'], gaps.length ? gaps.join('; ') : '—'),
      ...(d.manifest.stopReason
        ? fact(['Dừng vì', 'Stopped because'], stopReason(d.manifest.stopReason), 'stop-reason')
        : []),
    );
    const jobText = archiveState(d);
    job.replaceChildren(bi(['Bản lưu trữ: ', 'Archive: '], 'span'), el('span', { text: jobText }));
    if (d.job?.state === 'running' || d.job?.state === 'queued') {
      job.append(el('progress', { attrs: { max: '100', value: String(d.job.progress) } }));
    }
    if (d.job?.state === 'failed' && d.job.error) job.append(el('p', { className: 'muted', text: d.job.error }));
    drawPlayer(d.archive);
    drawChecks(d);
    const jobKey = `${d.job?.state}:${d.archive?.madeAt}`;
    if (lastJob && jobKey !== lastJob) hooks.changed();
    lastJob = jobKey;
  }

  async function load() {
    clearTimeout(timer);
    if (closed) return;
    try {
      const d = await call<RecordingDetail>('GET', `/recordings/${encodeURIComponent(sessionId)}`);
      draw(d);
      // Until its archive is there (the job is queued a moment after the recording stops).
      const justStopped = !d.archive && !d.job && Date.now() - Date.parse(d.stoppedAt ?? d.startedAt) < JOB_WAIT_MS;
      const moving = d.state === 'recording' || d.job?.state === 'queued' || d.job?.state === 'running' || justStopped;
      if (moving && !closed) timer = setTimeout(() => void load(), POLL_MS);
    } catch (err) {
      status.error(err);
    }
  }

  actions.append(
    button(['Kiểm tra mã SHA-256', 'Verify checksums'], async () => {
      verifyResult.textContent = plain(['Đang kiểm tra…', 'Checking…']);
      try {
        const v = await call<RecordingVerify>('POST', `/recordings/${encodeURIComponent(sessionId)}/verify`);
        verifyResult.className = v.ok ? 'ok' : 'bad';
        verifyResult.textContent = v.ok
          ? plain([`Cả ${v.checked} tệp đều khớp`, `All ${v.checked} files match`])
          : plain([`Sai hoặc thiếu: ${v.mismatches.join(', ')}`, `Differ or missing: ${v.mismatches.join(', ')}`]);
      } catch (err) {
        verifyResult.textContent = '';
        status.error(err);
      }
    }),
    button(['Tạo lại bản lưu trữ', 'Make the archive again'], async () => {
      try {
        await call('POST', `/recordings/${encodeURIComponent(sessionId)}/archive`);
        hooks.changed();
        await load();
      } catch (err) {
        status.error(err);
      }
    }),
  );
  if (role === 'admin') {
    const del = button(
      ['Xóa bản ghi', 'Delete the recording'],
      async () => {
        const ask = [`Xóa vĩnh viễn bản ghi "${title.textContent}"?`, `Delete the recording for good?`] as const;
        if (!confirm(plain(ask))) return;
        try {
          await call('DELETE', `/recordings/${encodeURIComponent(sessionId)}`, { confirm: sessionId });
          hooks.deleted();
        } catch (err) {
          status.error(err);
        }
      },
      'danger',
    );
    del.setAttribute('data-testid', 'recording-delete');
    actions.append(del);
  }

  void load();
  return {
    node: el('section', { className: 'card' }, title, status.node, facts, job, player, actions, verifyResult, checks),
    close: () => {
      closed = true;
      clearTimeout(timer);
    },
  };
}
