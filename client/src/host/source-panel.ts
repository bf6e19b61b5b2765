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
  const srt = streamListener('srt', ['Mở cổng SRT', 'Open an SRT port'], ['Đóng cổng SRT', 'Close the SRT port']);
  const rtmp = streamListener('rtmp', ['Mở cổng RTMP', 'Open an RTMP port'], ['Đóng cổng RTMP', 'Close the RTMP port']);
  function streamListener(protocol: 'srt' | 'rtmp', openText: Text, closeText: Text) {
    const url = el('code', { attrs: { 'data-testid': `${protocol}-url` } });
    const state = el('p', { attrs: { 'data-testid': `${protocol}-state` } });
    const toggle = el('button', { attrs: { 'data-testid': `${protocol}-toggle` } });
    const name = protocol.toUpperCase();
    let open = false;
    const show = (s: SrtStatus) => {
      open = s.state !== 'off';
      url.textContent = s.url ?? '';
      setBi(toggle, open ? closeText : openText);
      const states: Record<SrtStatus['state'], Text> = {
        off: [`Cổng ${name} đang đóng`, `The ${name} port is closed`],
        listening: ['Đang chờ bộ mã hóa kết nối', 'Waiting for the encoder'],
        receiving: [`● Bộ mã hóa ${name} đang phát`, `● The ${name} encoder is sending`],
      };
      setBi(state, states[s.state]);
    };
    toggle.addEventListener('click', () => void request(`ingest:${protocol}`, { open: !open }).then(show, fail));
    socket.on(protocol, show);
    const refresh = () => void request(`ingest:${protocol}`, {}).then(show, fail);
    return { nodes: [bi([`Bộ mã hóa (${name})`, `Encoder (${name})`], 'h3'), url, state, toggle], refresh };
  }
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
    ...srt.nodes,
    ...rtmp.nodes,
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
      srt.refresh();
      rtmp.refresh();
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
