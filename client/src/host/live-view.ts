// What the host's live console shows: its layout (devices, agenda, live numbers, raised
// hands and the floor) and how a broadcast view, the hands and the numbers are drawn.
// No socket here: ./live.ts wires the buttons and feeds the renderers.
import type { BroadcastView, Hand, LiveNumbers } from '../../../server/contract/broadcast';
import { bi, plain, setBi, type Text } from '../ui/i18n';
import { PageStatus, type StatusKind } from '../ui/page-status';
import { el } from '../ui/shell';
import { stopReasonText } from './recording-words';

export interface AgendaItemView {
  id: string;
  title: string;
  speaker: string;
  role: string;
  plannedMinutes: number;
}

export type LiveLayout = ReturnType<typeof liveLayout>;

function button(text: Text, testid: string, className = ''): HTMLButtonElement {
  const b = el('button', { className, attrs: { 'data-testid': testid } });
  setBi(b, text);
  return b;
}

/**
 * Builds the console's elements into `container`; `say` writes its status line, and
 * `mediaUnavailable` reloads the page when mediasoup-client's chunk did not load (whether
 * `err` was that, ../ui/page-status.ts).
 */
export function liveLayout(container: HTMLElement) {
  const status = new PageStatus(
    el('div', { className: 'status', attrs: { role: 'status', 'data-testid': 'host-status' } }),
  );
  const say = (t: Text, kind?: StatusKind): void => status.say(t, kind);
  const mediaUnavailable = (err: unknown): boolean => status.mediaUnavailable(err);
  const camSelect = el('select', { attrs: { 'aria-label': 'Camera', 'data-testid': 'camera-select' } });
  const micSelect = el('select', { attrs: { 'aria-label': 'Micro', 'data-testid': 'mic-select' } });
  const preview = el('video', {
    className: 'preview',
    attrs: { autoplay: '', playsinline: '', 'data-testid': 'preview' },
  });
  preview.muted = true;
  const meter = el('meter', { attrs: { min: '0', max: '1', value: '0', 'data-testid': 'mic-level' } });
  const floorVideo = el('video', {
    className: 'floor hidden',
    attrs: { autoplay: '', playsinline: '', 'data-testid': 'host-floor-video' },
  });
  const floorAudio = el('audio', { attrs: { autoplay: '' } });

  const cameraBtn = button(['Bật camera và micro', 'Turn camera and microphone on'], 'camera-on');
  const goLiveBtn = button(['Bắt đầu phát trực tiếp', 'Go live'], 'go-live', 'primary');
  const camBtn = button(['Tạm tắt hình', 'Pause camera'], 'pause-video');
  const micBtn = button(['Tắt micro', 'Mute microphone'], 'pause-audio');
  const slidesBtn = button(['Chia sẻ màn hình trình chiếu', 'Share slides screen'], 'slides');
  const endBtn = button(['Kết thúc hội nghị', 'End the briefing'], 'end', 'danger');
  const nextBtn = button(['Chuyển nội dung tiếp theo', 'Next agenda item'], 'agenda-next', 'primary');
  const revokeBtn = button(['Thu hồi quyền phát biểu', 'Take back the floor'], 'floor-revoke');
  const floorMuteBtn = button(['Tắt micro điểm cầu phát biểu', 'Mute the floor'], 'floor-mute');
  const agendaList = el('ol', { className: 'agenda', attrs: { 'data-testid': 'agenda' } });
  const handsList = el('ol', { className: 'hands', attrs: { 'data-testid': 'hands' } });
  const numbersBox = el('div', { className: 'numbers', attrs: { 'data-testid': 'numbers' } });
  const floorLine = el('p', { attrs: { 'data-testid': 'floor-holder' } });
  // Recording: chosen before going live; while it records, a red badge with its duration.
  const recordToggle = el('input', { attrs: { type: 'checkbox', 'data-testid': 'recording-toggle' } });
  const recordBadge = el('p', { className: 'recording hidden', attrs: { 'data-testid': 'recording' } });

  container.replaceChildren(
    status.node,
    el(
      'div',
      { className: 'live-grid' },
      el(
        'section',
        { className: 'card' },
        bi(['Thiết bị', 'Devices'], 'h3'),
        el('label', {}, bi(['Camera', 'Camera']), camSelect),
        el('label', {}, bi(['Micro', 'Microphone']), micSelect),
        preview,
        el('label', {}, bi(['Mức âm micro', 'Microphone level']), meter),
        el('div', { className: 'controls' }, cameraBtn),
        el('label', {}, recordToggle, bi(['Ghi hình hội nghị', 'Record the briefing'])),
        recordBadge,
        el('div', { className: 'controls' }, goLiveBtn, camBtn, micBtn, slidesBtn, endBtn),
      ),
      el('section', { className: 'card' }, bi(['Chương trình', 'Agenda'], 'h3'), agendaList, nextBtn),
      el(
        'section',
        { className: 'card' },
        bi(['Số liệu trực tiếp', 'Live numbers'], 'h3'),
        numbersBox,
        bi(['Điểm cầu xin phát biểu', 'Raised hands'], 'h3'),
        handsList,
        floorLine,
        el('div', { className: 'controls' }, floorMuteBtn, revokeBtn),
        floorVideo,
        floorAudio,
      ),
    ),
  );
  return {
    say,
    mediaUnavailable,
    camSelect,
    micSelect,
    preview,
    meter,
    floorVideo,
    floorAudio,
    cameraBtn,
    goLiveBtn,
    camBtn,
    micBtn,
    slidesBtn,
    endBtn,
    nextBtn,
    revokeBtn,
    floorMuteBtn,
    agendaList,
    handsList,
    numbersBox,
    floorLine,
    recordToggle,
    recordBadge,
  };
}

/**
 * The camera button says what a click does: turn the camera and microphone on, or off.
 * While live they stay on (pausing is for that), so the button is then disabled.
 */
export function renderCameraButton(ui: LiveLayout, cameraOn: boolean, live: boolean, sending: boolean): void {
  setBi(
    ui.cameraBtn,
    cameraOn && live && !sending
      ? ['Phát camera và micro lên', 'Put camera and microphone on air']
      : cameraOn
        ? ['Tắt camera và micro', 'Turn camera and microphone off']
        : ['Bật camera và micro', 'Turn camera and microphone on'],
  );
  ui.cameraBtn.dataset.on = String(cameraOn);
  ui.cameraBtn.disabled = cameraOn && live && sending;
  ui.cameraBtn.title =
    cameraOn && live && sending
      ? plain(['Đang phát: dùng nút tạm tắt hình/micro', 'Live: use pause camera/mute instead'])
      : '';
}

/** The red recording badge: hidden unless recording, with how long it has been (h:mm:ss). */
export function renderRecording(ui: LiveLayout, v: BroadcastView | undefined, now = Date.now()): void {
  const since = v?.recording.since;
  const stopped = v?.state === 'live' ? v.recording.stopReason : undefined;
  ui.recordBadge.classList.toggle('hidden', !since && !stopped);
  ui.recordBadge.classList.toggle('stopped', !since && !!stopped);
  if (!since) {
    // Stopped while live (a full disk): the host sees why; the broadcast goes on.
    const [vi, en] = stopped ? stopReasonText(stopped) : ['', ''];
    if (stopped)
      setBi(ui.recordBadge, [
        `■ Đã dừng ghi hình: ${vi}; buổi phát vẫn tiếp tục`,
        `Recording stopped: ${en}; the broadcast goes on`,
      ]);
    return;
  }
  const s = Math.max(0, Math.floor((now - Date.parse(since)) / 1000));
  const hms = `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  setBi(ui.recordBadge, [`● Đang ghi hình ${hms}`, `Recording ${hms}`]);
}

/**
 * Draws the broadcast's state: which buttons apply, their labels, the agenda with the
 * current item (a click on an item asks to go to it), who holds the floor, the status.
 */
export function renderView(
  ui: LiveLayout,
  v: BroadcastView,
  agenda: AgendaItemView[],
  goTo: (index: number) => void,
): void {
  ui.endBtn.disabled = v.state !== 'live';
  ui.nextBtn.disabled = v.state !== 'live' || (v.caption ? v.caption.index + 1 >= agenda.length : agenda.length === 0);
  setBi(ui.camBtn, v.paused.video ? ['Bật lại hình', 'Resume camera'] : ['Tạm tắt hình', 'Pause camera']);
  setBi(ui.micBtn, v.paused.audio ? ['Bật micro', 'Unmute microphone'] : ['Tắt micro', 'Mute microphone']);
  setBi(
    ui.slidesBtn,
    v.slidesOn
      ? ['Dừng chia sẻ màn hình', 'Stop sharing slides']
      : ['Chia sẻ màn hình trình chiếu', 'Share slides screen'],
  );
  ui.agendaList.replaceChildren(
    ...agenda.map((item, i) => {
      const li = el(
        'li',
        { className: v.caption?.index === i ? 'current' : '' },
        el('strong', { text: item.title }),
        el('span', {
          className: 'muted',
          text: ` — ${item.speaker}${item.role ? `, ${item.role}` : ''} (${item.plannedMinutes}′)`,
        }),
      );
      li.addEventListener('click', () => goTo(i));
      return li;
    }),
  );
  ui.recordToggle.checked = v.recording.on;
  ui.recordToggle.disabled = !['draft', 'scheduled', 'lobby'].includes(v.state);
  renderRecording(ui, v);
  ui.floorLine.textContent = v.floor ? plain([`Đang phát biểu: ${v.floor.name}`, `On the floor: ${v.floor.name}`]) : '';
  ui.revokeBtn.disabled = !v.floor;
  ui.floorMuteBtn.disabled = !v.floor;
  setBi(
    ui.floorMuteBtn,
    v.floor?.muted
      ? ['Bật lại micro điểm cầu phát biểu', 'Unmute the floor']
      : ['Tắt micro điểm cầu phát biểu', 'Mute the floor'],
  );
  if (!v.floor) {
    ui.floorVideo.classList.add('hidden');
    ui.floorVideo.srcObject = null;
  }
  if (v.state === 'live') ui.say(['ĐANG PHÁT TRỰC TIẾP', 'LIVE'], 'ok');
  else if (v.state === 'ended') ui.say(['Hội nghị đã kết thúc', 'The briefing has ended'], 'info');
  else if (v.state === 'lobby')
    ui.say(
      ['Phòng chờ đang mở: các điểm cầu đang kiểm tra kỹ thuật', 'Lobby open: points are running their checks'],
      'info',
    );
}

/** The raised hands, each with a button that gives that point the floor. */
export function renderHands(ui: LiveLayout, hands: Hand[], give: (pointId: string) => void): void {
  ui.handsList.replaceChildren(
    ...hands.map((h) => {
      const b = button(['Mời phát biểu', 'Give the floor'], `give-floor-${h.pointId}`);
      b.addEventListener('click', () => give(h.pointId));
      return el('li', {}, el('span', { text: `${h.name} (${h.district}) ` }), b);
    }),
  );
  if (hands.length === 0) ui.handsList.append(el('li', { className: 'muted', text: plain(['Chưa có', 'None']) }));
}

export function renderNumbers(ui: LiveLayout, n: LiveNumbers): void {
  ui.numbersBox.replaceChildren(
    el('div', { text: `${n.connected}/${n.invited}`, attrs: { 'data-testid': 'points-connected' } }),
    bi(['điểm cầu đã kết nối', 'points connected']),
    el('div', { text: `${n.receivingVideo}` }),
    bi(['điểm cầu đang nhận hình', 'points receiving video']),
    el('div', { text: n.delegatesReported.toLocaleString('vi-VN') }),
    bi(['đại biểu đã báo cáo', 'delegates reported']),
  );
}
