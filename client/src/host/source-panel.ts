// The console's card for the hall's source: which source the points receive (the
// console's camera, an encoder over WHIP, an ingest; or auto), which ones publish now;
// the URL an encoder (OBS, a hardware encoder, a vision mixer's output) publishes to over
// WHIP, a new bearer token on request (shown once; issuing one revokes the last), and a
// button to stop that encoder.
import type { BroadcastView, HallChoice, HallSource, SrtStatus, WhipStatus } from '../../../server/contract/broadcast';
import type { HostClientEvents } from '../../../server/contract/namespaces';
import type { Request } from '../net/request';
import type { HostSocket } from '../net/sockets';
import { failed } from '../ui/errors';
import { bi, plain, setBi, type Text } from '../ui/i18n';
import { el } from '../ui/shell';

const SOURCE_NAMES: Record<HallChoice, Text> = {
  auto: ['Tự động (ưu tiên bộ mã hóa)', 'Automatic (an encoder first)'],
  console: ['Camera của bàn điều khiển', 'This console’s camera'],
  whip: ['Bộ mã hóa qua WHIP', 'Encoder over WHIP'],
  ingest: ['Luồng RTP / RTMP / SRT', 'RTP / RTMP / SRT stream'],
};

export interface SourcePanel {
  /** Asks for the WHIP status: call once the console is attached to its session. */
  refresh: () => void;
  /** Draws the hall's source from a broadcast view. */
  showHall: (hall: BroadcastView['hall']) => void;
}

export function mountSourcePanel(
  parent: HTMLElement,
  socket: HostSocket,
  request: Request<HostClientEvents>,
  act: (fn: () => Promise<BroadcastView>) => Promise<void>,
): SourcePanel {
  const choice = el('select', { attrs: { 'aria-label': 'Nguồn', 'data-testid': 'hall-source' } });
  for (const [value, text] of Object.entries(SOURCE_NAMES)) {
    choice.append(el('option', { text: plain(text), attrs: { value } }));
  }
  const liveLine = el('p', { attrs: { 'data-testid': 'hall-live' } });
  choice.addEventListener('change', () => {
    void act(() => request('hall:source', { source: choice.value as HallChoice }));
  });
  const url = el('code', { attrs: { 'data-testid': 'whip-url' } });
  const token = el('code', { attrs: { 'data-testid': 'whip-token' } });
  const state = el('p', { attrs: { 'data-testid': 'whip-state' } });
  const issueBtn = el('button', { attrs: { 'data-testid': 'whip-issue' } });
  setBi(issueBtn, ['Tạo mã WHIP mới', 'New WHIP token']);
  const stopBtn = el('button', { attrs: { 'data-testid': 'whip-stop' } });
  setBi(stopBtn, ['Dừng bộ mã hóa WHIP', 'Stop the WHIP encoder']);
  const srtUrl = el('code', { attrs: { 'data-testid': 'srt-url' } });
  const srtState = el('p', { attrs: { 'data-testid': 'srt-state' } });
  const srtBtn = el('button', { attrs: { 'data-testid': 'srt-toggle' } });
  let srtOpen = false;
  const showSrt = (s: SrtStatus) => {
    srtOpen = s.state !== 'off';
    srtUrl.textContent = s.url ?? '';
    setBi(srtBtn, srtOpen ? ['Đóng cổng SRT', 'Close the SRT port'] : ['Mở cổng SRT', 'Open an SRT port']);
    const states: Record<SrtStatus['state'], Text> = {
      off: ['Cổng SRT đang đóng', 'The SRT port is closed'],
      listening: ['Đang chờ bộ mã hóa kết nối', 'Waiting for the encoder'],
      receiving: ['● Bộ mã hóa SRT đang phát', '● The SRT encoder is sending'],
    };
    setBi(srtState, states[s.state]);
  };
  srtBtn.addEventListener('click', () => void request('ingest:srt', { open: !srtOpen }).then(showSrt, fail));
  socket.on('srt', showSrt);
  const card = el(
    'section',
    { className: 'card', attrs: { 'data-testid': 'whip-card' } },
    bi(['Nguồn hình và tiếng hội trường', 'The hall’s source'], 'h3'),
    choice,
    liveLine,
    bi(['Bộ mã hóa (WHIP)', 'Encoder (WHIP)'], 'h3'),
    el('label', {}, bi(['Địa chỉ WHIP', 'WHIP URL']), url),
    el('label', {}, bi(['Mã (Bearer token), chỉ hiện một lần', 'Bearer token, shown once']), token),
    state,
    el('div', { className: 'controls' }, issueBtn, stopBtn),
    bi(['Bộ mã hóa (SRT)', 'Encoder (SRT)'], 'h3'),
    srtUrl,
    srtState,
    el('div', { className: 'controls' }, srtBtn),
  );
  parent.append(card);

  const show = (s: WhipStatus) => {
    url.textContent = s.url;
    stopBtn.disabled = !s.publisher;
    if (!s.publisher) setBi(state, ['Chưa có bộ mã hóa nào đang phát', 'No encoder is publishing']);
    else {
      const what = `${s.publisher.kinds.join(' + ')}, ${s.publisher.videoLayers} layer(s)`;
      setBi(state, [`● Bộ mã hóa đang phát: ${what}`, `● Encoder publishing: ${what}`]);
    }
  };
  const fail = (err: unknown) => setBi(state, failed(['Không thực hiện được', 'Failed'], err));

  socket.on('whip', show);
  issueBtn.addEventListener('click', () => {
    if (
      token.textContent &&
      !confirm(plain(['Mã cũ sẽ hết hiệu lực. Tạo mã mới?', 'The old token stops working. Continue?']))
    )
      return;
    void request('whip:issue', {}).then((s) => {
      token.textContent = s.token;
      show(s);
    }, fail);
  });
  stopBtn.addEventListener(
    'click',
    () => void request('whip:stop', {}).then(() => request('whip:status', {}).then(show), fail),
  );
  const name = (s: HallSource) => SOURCE_NAMES[s];
  return {
    refresh: () => {
      void request('whip:status', {}).then(show, fail);
      void request('ingest:srt', {}).then(showSrt, fail);
    },
    showHall: (hall) => {
      choice.value = hall.choice;
      if (!hall.live) setBi(liveLine, ['Chưa có nguồn nào đang phát', 'No source is publishing']);
      else {
        const [vi, en] = name(hall.live);
        const others = hall.present.filter((s) => s !== hall.live);
        const spare = others.map((s) => name(s)[0]).join(', ');
        const spareEn = others.map((s) => name(s)[1]).join(', ');
        setBi(liveLine, [
          `● Các điểm cầu đang nhận: ${vi}${spare ? ` (sẵn sàng: ${spare})` : ''}`,
          `● Points receive: ${en}${spareEn ? ` (also ready: ${spareEn})` : ''}`,
        ]);
      }
    },
  };
}
