// Attendance and health on the point page: the 2-second statistics, the headcount, the
// delegates' check-in QR code and the "mất hình" / "mất tiếng" buttons.
//
// Statistics are real time: a report that cannot be sent is dropped (the next one is two
// seconds away). Headcounts and problem reports are kept in an outbox (in localStorage,
// so a reload keeps them, report-outbox.ts) and sent again until the server says they
// are stored.
import type { CheckinQr, HealthReport } from '../../../server/contract/attendance';
import type { BroadcastView } from '../../../server/contract/broadcast';
import { requester, RequestError, type Request } from '../net/request';
import type { PointClientEvents } from '../../../server/contract/namespaces';
import type { PointSocket } from '../net/sockets';
import type { BroadcastReceiver } from '../rtc/receiver';
import { PATH_TEXT, selectedPair } from '../rtc/media-path';
import { failed } from '../ui/errors';
import { bi, setBi, type Text } from '../ui/i18n';
import { el } from '../ui/shell';
import { showTime } from '../ui/time';
import { ReportOutbox } from './report-outbox';

export interface PointAttendanceContext {
  socket: PointSocket;
  container: HTMLElement;
  receiver: BroadcastReceiver;
  view: () => BroadcastView | undefined;
  /** Times the media watchdog rebuilt the receive path since the page loaded. */
  mediaRebuilds?: () => number;
}

const REPORT_EVERY_MS = 2000;

type Stat = Record<string, unknown>;
const n = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

interface Totals {
  at: number;
  bytes: number;
  packets: number;
  lost: number;
  frames: number;
  dropped: number;
  freezes: number;
  freezeS: number;
  concealed: number;
  samples: number;
}

/** Reads the consumers' inbound-rtp stats and the selected candidate pair. */
async function readStats(receiver: BroadcastReceiver) {
  const t: Totals = {
    at: performance.now(),
    bytes: 0,
    packets: 0,
    lost: 0,
    frames: 0,
    dropped: 0,
    freezes: 0,
    freezeS: 0,
    concealed: 0,
    samples: 0,
  };
  let jitter: number | undefined;
  let width: number | undefined;
  let height: number | undefined;
  let video = false;
  const consumers = receiver.consumers();
  for (const c of consumers) {
    const report = await c.getStats().catch(() => undefined);
    if (!report) continue;
    report.forEach((s: Stat) => {
      // mediasoup-client's receive-side probator is not media (shared/notes/browser-e2e.md).
      if (s.type !== 'inbound-rtp' || s.mid === 'probator') return;
      t.bytes += n(s.bytesReceived) ?? 0;
      t.packets += n(s.packetsReceived) ?? 0;
      t.lost += Math.max(0, n(s.packetsLost) ?? 0);
      const j = n(s.jitter);
      if (j !== undefined) jitter = Math.max(jitter ?? 0, j * 1000);
      if (s.kind === 'video') {
        video = true;
        t.frames += n(s.framesDecoded) ?? 0;
        t.dropped += n(s.framesDropped) ?? 0;
        t.freezes += n(s.freezeCount) ?? 0;
        t.freezeS += n(s.totalFreezesDuration) ?? 0;
        width = Math.max(width ?? 0, n(s.frameWidth) ?? 0);
        height = Math.max(height ?? 0, n(s.frameHeight) ?? 0);
      } else if (s.kind === 'audio') {
        t.concealed += n(s.concealedSamples) ?? 0;
        t.samples += n(s.totalSamplesReceived) ?? 0;
      }
    });
  }
  const transport = receiver.transport;
  const pair = await selectedPair(transport).catch(() => undefined);
  return {
    totals: t,
    jitter,
    width,
    height,
    video,
    consumers: consumers.length,
    rttMs: pair?.rttMs ?? null,
    pair,
    state: transport && !transport.closed ? (transport.connectionState as HealthReport['transportState']) : null,
  };
}

const clamp = (v: number, max: number) => Math.max(0, Math.min(max, v));

export function startPointAttendance(ctx: PointAttendanceContext): void {
  const { socket, container } = ctx;
  const request = requester(socket, 8000);
  const storeKey = `briefing:outbox:${location.pathname}`;
  document.head.append(el('link', { attrs: { rel: 'stylesheet', href: '/assets/attendance.css' } }));

  // ----- layout -----
  const healthLine = el('p', { className: 'health-line muted', attrs: { 'data-testid': 'health-status' } });
  const hcInput = el('input', {
    attrs: { type: 'number', min: '0', max: '100000', inputmode: 'numeric', 'data-testid': 'headcount-input' },
  });
  const hcBy = el('input', { attrs: { type: 'text', maxlength: '80', 'aria-label': 'Người báo cáo · Reported by' } });
  const hcBtn = el('button', { className: 'primary', attrs: { 'data-testid': 'headcount-send' } });
  setBi(hcBtn, ['Báo cáo số đại biểu', 'Report headcount']);
  const hcNow = el('p', { className: 'muted', attrs: { 'data-testid': 'headcount-now' } });
  const hcLabel = el('label', {}, bi(['Số đại biểu có mặt', 'Delegates present']), hcInput);
  const byLabel = el('label', {}, bi(['Người báo cáo (không bắt buộc)', 'Reported by (optional)']), hcBy);
  const headcountBox = el(
    'form',
    { className: 'headcount' },
    bi(['Số đại biểu', 'Headcount'], 'h3'),
    hcLabel,
    byLabel,
    hcBtn,
    hcNow,
  );

  const qr = checkinQr(request);

  const noVideo = el('button', { className: 'warn', attrs: { type: 'button', 'data-testid': 'problem-no-video' } });
  setBi(noVideo, ['Mất hình', 'No picture']);
  const noAudio = el('button', { className: 'warn', attrs: { type: 'button', 'data-testid': 'problem-no-audio' } });
  setBi(noAudio, ['Mất tiếng', 'No sound']);
  const other = el('button', { className: 'warn', attrs: { type: 'button', 'data-testid': 'problem-other' } });
  setBi(other, ['Sự cố khác', 'Other problem']);
  // What happened, in the technician's words: goes with the report to the desk.
  const note = el('input', {
    attrs: {
      type: 'text',
      maxlength: '500',
      'data-testid': 'problem-note',
      placeholder: 'Mô tả sự cố (bắt buộc với "Sự cố khác") · What is wrong (needed for "Other problem")',
      'aria-label': 'Mô tả sự cố · What is wrong',
    },
  });
  const problemOut = el('p', { className: 'muted', attrs: { role: 'status' } });
  const problemBox = el(
    'div',
    { className: 'problems' },
    bi(['Báo sự cố cho kỹ thuật trung tâm', 'Tell the central desk'], 'h3'),
    el('div', { className: 'row' }, noVideo, noAudio, other),
    note,
    problemOut,
  );
  const outboxLine = el('p', { className: 'warn-text hidden', attrs: { 'data-testid': 'outbox' } });
  container.replaceChildren(
    el('div', { className: 'extras-grid' }, headcountBox, qr.box, problemBox),
    healthLine,
    outboxLine,
  );

  const outbox = new ReportOutbox({
    storeKey,
    request,
    line: outboxLine,
    headcountStored: (count, at) => showHeadcount(count, at),
    problemStored: () =>
      setBi(problemOut, [
        'Đã báo cho kỹ thuật trung tâm. Xin chờ hỗ trợ.',
        'The central desk has been told. Help is on the way.',
      ]),
    refused: (err) => setBi(problemOut, failed(['Không gửi được', 'Could not send'], err)),
  });

  function showHeadcount(count: number, at: string) {
    setBi(hcNow, [
      `Đã báo cáo: ${count} đại biểu lúc ${showTime(at, 'time')}`,
      `Reported: ${count} delegates at ${showTime(at, 'time')}`,
    ]);
  }

  headcountBox.addEventListener('submit', (e) => {
    e.preventDefault();
    const count = Number(hcInput.value);
    if (!Number.isInteger(count) || count < 0 || count > 100_000) {
      setBi(hcNow, ['Hãy nhập một số nguyên từ 0.', 'Enter a whole number from 0.']);
      return;
    }
    const by = hcBy.value.trim();
    outbox.enqueue({ event: 'headcount:report', payload: by ? { count, by } : { count } });
    setBi(hcNow, ['Đang gửi…', 'Sending…']);
  });
  const problem = (kind: 'no-video' | 'no-audio' | 'other', text: Text) => () => {
    const said = note.value.trim();
    if (kind === 'other' && !said) {
      setBi(problemOut, ['Hãy mô tả sự cố trước khi gửi.', 'Say what is wrong before sending.']);
      return note.focus();
    }
    outbox.enqueue({ event: 'problem:report', payload: said ? { kind, note: said } : { kind } });
    note.value = '';
    setBi(problemOut, text);
  };
  other.addEventListener('click', problem('other', ['Đang báo sự cố…', 'Reporting the problem…']));
  noVideo.addEventListener('click', problem('no-video', ['Đang báo mất hình…', 'Reporting no picture…']));
  noAudio.addEventListener('click', problem('no-audio', ['Đang báo mất tiếng…', 'Reporting no sound…']));

  // Once the briefing's picture shows (or the lobby opens, which may have none yet), the
  // QR library loads in the background, ready for the delegates' check-in.
  startHealthReports(ctx, request, healthLine, qr.warm);

  socket.on('connect', () => {
    outbox.flush();
    void request('attendance:mine', {})
      .then((m) => {
        if (m.headcount) {
          showHeadcount(m.headcount.count, m.headcount.at);
          if (!hcInput.value) hcInput.value = String(m.headcount.count);
        }
      })
      .catch(() => undefined);
    qr.refresh();
  });
  if (socket.connected) outbox.flush();
}

/** The delegates' check-in QR code, shown on demand and fetched again as it rotates. */
function checkinQr(request: Request<PointClientEvents>): {
  box: HTMLElement;
  refresh: () => void;
  /** Loads the QR library in the background, once. */
  warm: () => void;
} {
  const qrBtn = el('button', { attrs: { type: 'button', 'data-testid': 'qr-toggle' } });
  setBi(qrBtn, ['Hiện mã QR điểm danh', 'Show the check-in QR code']);
  const qrImg = el('img', { className: 'qr', attrs: { alt: 'QR', 'data-testid': 'qr-image' } });
  const qrInfo = el('p', { className: 'muted' });
  const qrPanel = el(
    'div',
    { className: 'qr-panel hidden' },
    bi(['Đại biểu quét mã để điểm danh', 'Delegates scan to check in'], 'p'),
    qrImg,
    qrInfo,
  );

  // The QR library loads apart from the page (its first frame does not wait for it): early
  // in the background (`warm`), or on the first show. A load that failed is not kept, so
  // the next show tries again; a browser may still refuse the module until the page is
  // reloaded, so after a few failures the panel asks for that.
  const importQr = () => import('qrcode');
  let qrLib: ReturnType<typeof importQr> | undefined;
  const loadQr = () =>
    (qrLib ??= importQr().catch((err: unknown) => {
      qrLib = undefined;
      throw err;
    }));
  let libFailures = 0;
  let warmed = false;

  let qrTimer: ReturnType<typeof setTimeout> | undefined;
  let qrShown = false;
  const showQr = async () => {
    clearTimeout(qrTimer);
    if (!qrShown) return;
    let QRCode: Awaited<ReturnType<typeof importQr>>['default'];
    try {
      QRCode = (await loadQr()).default;
      libFailures = 0;
    } catch {
      qrImg.removeAttribute('src');
      if (++libFailures >= 3) {
        // Shown again by a click on the button, which tries once more.
        setBi(qrInfo, [
          'Không tải được phần hiển thị mã QR. Hãy tải lại trang (F5).',
          'The QR code viewer could not be loaded. Reload the page (F5).',
        ]);
        return;
      }
      setBi(qrInfo, [
        'Chưa tải được phần hiển thị mã QR, đang thử lại…',
        'Could not load the QR code viewer, retrying…',
      ]);
      qrTimer = setTimeout(() => void showQr(), 5000);
      return;
    }
    try {
      const qr: CheckinQr = await request('checkin:qr', {});
      const svg = await QRCode.toString(qr.url, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
      // An image, never markup in the page: the SVG comes from the library, as data.
      qrImg.src = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`;
      qrImg.dataset.url = qr.url;
      setBi(qrInfo, [`Đã điểm danh: ${qr.checkedIn} đại biểu`, `Checked in: ${qr.checkedIn} delegates`]);
      qrTimer = setTimeout(() => void showQr(), Math.max(1000, Date.parse(qr.rotateAt) - Date.now() + 300));
    } catch (err) {
      const code = err instanceof RequestError ? err.code : 'internal';
      qrImg.removeAttribute('src');
      setBi(
        qrInfo,
        code === 'not_open'
          ? [
              'Điểm danh mở từ khi vào phòng chờ đến khi kết thúc.',
              'Check-in opens with the lobby and closes at the end.',
            ]
          : ['Chưa lấy được mã, đang thử lại…', 'Could not get a code, retrying…'],
      );
      qrTimer = setTimeout(() => void showQr(), 5000);
    }
  };
  qrBtn.addEventListener('click', () => {
    qrShown = !qrShown;
    qrPanel.classList.toggle('hidden', !qrShown);
    setBi(qrBtn, qrShown ? ['Ẩn mã QR', 'Hide the QR code'] : ['Hiện mã QR điểm danh', 'Show the check-in QR code']);
    void showQr();
  });

  return {
    box: el('div', { className: 'checkin-qr' }, qrBtn, qrPanel),
    refresh: () => {
      if (qrShown) void showQr();
    },
    warm: () => {
      if (warmed) return;
      warmed = true;
      loadQr().catch(() => undefined);
    },
  };
}

/** The 2-second statistics: read, reported, and the server's verdict shown on the page. */
function startHealthReports(
  ctx: PointAttendanceContext,
  request: Request<PointClientEvents>,
  healthLine: HTMLElement,
  settled: () => void,
): void {
  const { socket, container, receiver } = ctx;
  let prev: Totals | undefined;
  let lastAckMs: number | null = null;
  let reporting = false;
  const STATUS_TEXT: Record<string, Text> = {
    good: ['Kết nối tốt', 'Connection good'],
    degraded: ['Kết nối giảm chất lượng', 'Connection degraded'],
    poor: ['Kết nối kém', 'Connection poor'],
    lost: ['Mất kết nối', 'Connection lost'],
    connecting: ['Đang kết nối', 'Connecting'],
    offline: ['Ngoài giờ hội nghị', 'Outside the briefing'],
  };
  const tick = async () => {
    const v = ctx.view();
    const active = !!v && (v.state === 'lobby' || v.state === 'live');
    container.classList.toggle('hidden', !active);
    if (!active || !socket.connected || reporting) return;
    reporting = true;
    try {
      const s = await readStats(receiver);
      const t = s.totals;
      if (t.frames > 0 || v.state === 'lobby') settled();
      const dt = prev ? (t.at - prev.at) / 1000 : 0;
      const d = (k: keyof Totals) => (prev ? Math.max(0, t[k] - prev[k]) : 0);
      const packets = d('packets') + d('lost');
      const report: HealthReport = {
        transportState: s.state,
        protocol: s.pair?.path ?? null,
        rttMs: s.rttMs,
        signalRttMs: lastAckMs,
        lossPct: prev && packets > 0 ? clamp((d('lost') / packets) * 100, 100) : null,
        jitterMs: s.jitter !== undefined ? clamp(Math.round(s.jitter), 60_000) : null,
        bitrateKbps: prev && dt > 0 ? clamp(Math.round((d('bytes') * 8) / dt / 1000), 1_000_000) : null,
        consumers: Math.min(50, s.consumers),
        framesDecoded: s.video && prev ? Math.min(10_000, d('frames')) : null,
        framesDropped: s.video && prev ? Math.min(10_000, d('dropped')) : null,
        freezeCount: s.video && prev ? Math.min(1000, d('freezes')) : null,
        freezeMs: s.video && prev ? clamp(Math.round(d('freezeS') * 1000), 600_000) : null,
        width: s.width ?? null,
        height: s.height ?? null,
        audioConcealedPct:
          prev && d('samples') > 0 ? clamp((d('concealed') / (d('samples') + d('concealed'))) * 100, 100) : null,
        mediaRebuilds: Math.min(10_000, ctx.mediaRebuilds?.() ?? 0),
      };
      prev = t;
      const sent = performance.now();
      const { status } = await request('health:report', report);
      lastAckMs = Math.round(performance.now() - sent);
      healthLine.className = `health-line st-${status}`;
      const [vi, en] = STATUS_TEXT[status] ?? [status, status];
      const p = s.pair ? PATH_TEXT[s.pair.path] : undefined;
      setBi(healthLine, p ? [`${vi} · đường truyền: ${p[0]}`, `${en} · media path: ${p[1]}`] : [vi, en]);
      healthLine.dataset.path = s.pair?.path ?? '';
    } catch {
      // Real-time numbers: the next report follows in two seconds.
    } finally {
      reporting = false;
    }
  };
  setInterval(() => void tick(), REPORT_EVERY_MS);
}
