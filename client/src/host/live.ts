// The live part of the host console: pick camera and microphone (preview, level meter),
// optional screen for slides, go live, pause camera or microphone, move through the
// agenda, see live numbers and raised hands, give and take back the floor, end.
import { Device } from 'mediasoup-client';
import type { types as msc } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import type { BroadcastView, Hand, HostRequests, LiveNumbers } from '../../../server/contract/broadcast';
import { requester } from '../net/request';
import { BroadcastReceiver } from '../rtc/receiver';
import { MediaSender } from '../rtc/sender';
import { bi, plain, setBi, type Text } from '../ui/i18n';
import { levelMeter } from '../ui/media';
import { el } from '../ui/shell';

export interface AgendaItemView {
  title: string;
  speaker: string;
  role: string;
  plannedMinutes: number;
}

export interface LiveConsole {
  socket: Socket;
  close: () => void;
}

function button(text: Text, testid: string, className = ''): HTMLButtonElement {
  const b = el('button', { className, attrs: { 'data-testid': testid } });
  setBi(b, text);
  return b;
}

export interface LiveConsoleHooks {
  /**
   * The session's state as the console sees it (the attach answer, `view` events, the
   * answers to its own requests), so the session card around it can follow.
   */
  onState?: (state: BroadcastView['state']) => void;
}

export function mountLiveConsole(
  container: HTMLElement,
  sessionId: string,
  agenda: AgendaItemView[],
  hooks: LiveConsoleHooks = {},
): LiveConsole {
  const socket = io('/host', { transports: ['websocket', 'polling'], reconnectionDelayMax: 5000 });
  const request = requester<HostRequests>(socket);
  let view: BroadcastView | undefined;
  let device: Device | undefined;
  let sender: MediaSender | undefined;
  let camera: MediaStreamTrack | undefined;
  let mic: MediaStreamTrack | undefined;
  let screen: MediaStreamTrack | undefined;
  let stopMeter: (() => void) | undefined;

  // ----- layout -----
  const status = el('div', { className: 'status', attrs: { role: 'status', 'data-testid': 'host-status' } });
  const say = (t: Text, kind: 'info' | 'ok' | 'warn' | 'bad' = 'info') => {
    status.className = `status ${kind}`;
    setBi(status, t);
  };
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

  const goLiveBtn = button(['Bắt đầu phát trực tiếp', 'Go live'], 'go-live', 'primary');
  const camBtn = button(['Tạm tắt hình', 'Pause camera'], 'pause-video');
  const micBtn = button(['Tắt micro', 'Mute microphone'], 'pause-audio');
  const slidesBtn = button(['Chia sẻ màn hình trình chiếu', 'Share slides screen'], 'slides');
  const endBtn = button(['Kết thúc hội nghị', 'End the briefing'], 'end', 'danger');
  const nextBtn = button(['Chuyển nội dung tiếp theo', 'Next agenda item'], 'agenda-next', 'primary');
  const revokeBtn = button(['Thu hồi quyền phát biểu', 'Take back the floor'], 'floor-revoke');
  const agendaList = el('ol', { className: 'agenda', attrs: { 'data-testid': 'agenda' } });
  const handsList = el('ol', { className: 'hands', attrs: { 'data-testid': 'hands' } });
  const numbersBox = el('div', { className: 'numbers', attrs: { 'data-testid': 'numbers' } });
  const floorLine = el('p', { attrs: { 'data-testid': 'floor-holder' } });

  container.replaceChildren(
    status,
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
        revokeBtn,
        floorVideo,
        floorAudio,
      ),
    ),
  );

  // ----- devices -----
  async function listDevices(): Promise<void> {
    const devices = await navigator.mediaDevices.enumerateDevices();
    const fill = (select: HTMLSelectElement, kind: MediaDeviceKind) => {
      const current = select.value;
      select.replaceChildren(
        ...devices
          .filter((d) => d.kind === kind)
          .map((d, i) => el('option', { text: d.label || `${kind} ${i + 1}`, attrs: { value: d.deviceId } })),
      );
      if (current) select.value = current;
    };
    fill(camSelect, 'videoinput');
    fill(micSelect, 'audioinput');
  }

  async function openDevices(): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({
      video: {
        deviceId: camSelect.value ? { exact: camSelect.value } : undefined,
        width: 1280,
        height: 720,
        frameRate: 30,
      },
      audio: {
        deviceId: micSelect.value ? { exact: micSelect.value } : undefined,
        echoCancellation: true,
        noiseSuppression: true,
      },
    });
    camera?.stop();
    mic?.stop();
    camera = stream.getVideoTracks()[0];
    mic = stream.getAudioTracks()[0];
    preview.srcObject = new MediaStream(camera ? [camera] : []);
    stopMeter?.();
    if (mic) stopMeter = levelMeter(mic, (l) => (meter.value = l));
    await listDevices();
    if (sender && camera) await sender.publish('host-camera', camera);
    if (sender && mic) await sender.publish('host-mic', mic);
  }

  camSelect.addEventListener('change', () => void openDevices());
  micSelect.addEventListener('change', () => void openDevices());

  // ----- media -----
  const receiver = new BroadcastReceiver(socket, {
    onTrack: (t) => {
      if (t.source === 'floor-camera') {
        floorVideo.srcObject = new MediaStream([t.track]);
        floorVideo.classList.remove('hidden');
      } else if (t.source === 'floor-mic') floorAudio.srcObject = new MediaStream([t.track]);
    },
    onTrackEnded: () => undefined,
    onState: () => undefined,
  });

  async function publishAll(): Promise<void> {
    if (!device) {
      const { routerRtpCapabilities } = await request('rtc:capabilities', {});
      device = new Device();
      await device.load({ routerRtpCapabilities: routerRtpCapabilities as msc.RtpCapabilities });
    }
    sender ??= new MediaSender(socket, device);
    if (camera) await sender.publish('host-camera', camera);
    if (mic) await sender.publish('host-mic', mic);
    if (screen) await sender.publish('host-screen', screen);
    await receiver.start(view?.producers.filter((p) => p.source.startsWith('floor-')) ?? []);
  }

  // ----- rendering -----
  function renderView(v: BroadcastView): void {
    const stateChanged = view?.state !== v.state;
    view = v;
    goLiveBtn.disabled = v.state === 'live' || v.state === 'ended' || v.state === 'cancelled';
    endBtn.disabled = v.state !== 'live';
    nextBtn.disabled = v.state !== 'live' || (v.caption ? v.caption.index + 1 >= agenda.length : agenda.length === 0);
    setBi(camBtn, v.paused.video ? ['Bật lại hình', 'Resume camera'] : ['Tạm tắt hình', 'Pause camera']);
    setBi(micBtn, v.paused.audio ? ['Bật micro', 'Unmute microphone'] : ['Tắt micro', 'Mute microphone']);
    setBi(
      slidesBtn,
      v.slidesOn
        ? ['Dừng chia sẻ màn hình', 'Stop sharing slides']
        : ['Chia sẻ màn hình trình chiếu', 'Share slides screen'],
    );
    agendaList.replaceChildren(
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
        li.addEventListener('click', () => v.state === 'live' && void act(() => request('agenda:go', { index: i })));
        return li;
      }),
    );
    floorLine.textContent = v.floor ? plain([`Đang phát biểu: ${v.floor.name}`, `On the floor: ${v.floor.name}`]) : '';
    revokeBtn.disabled = !v.floor;
    if (!v.floor) {
      floorVideo.classList.add('hidden');
      floorVideo.srcObject = null;
    }
    if (v.state === 'live') say(['ĐANG PHÁT TRỰC TIẾP', 'LIVE'], 'ok');
    else if (v.state === 'ended') say(['Hội nghị đã kết thúc', 'The briefing has ended'], 'info');
    else if (v.state === 'lobby')
      say(
        ['Phòng chờ đang mở: các điểm cầu đang kiểm tra kỹ thuật', 'Lobby open: points are running their checks'],
        'info',
      );
    if (stateChanged) hooks.onState?.(v.state);
  }

  function renderHands(hands: Hand[]): void {
    handsList.replaceChildren(
      ...hands.map((h) => {
        const give = button(['Mời phát biểu', 'Give the floor'], `give-floor-${h.pointId}`);
        give.addEventListener('click', () => void act(() => request('floor:grant', { pointId: h.pointId })));
        return el('li', {}, el('span', { text: `${h.name} (${h.district}) ` }), give);
      }),
    );
    if (hands.length === 0) handsList.append(el('li', { className: 'muted', text: plain(['Chưa có', 'None']) }));
  }

  function renderNumbers(n: LiveNumbers): void {
    numbersBox.replaceChildren(
      el('div', { text: `${n.connected}/${n.invited}`, attrs: { 'data-testid': 'points-connected' } }),
      bi(['điểm cầu đã kết nối', 'points connected']),
      el('div', { text: `${n.receivingVideo}` }),
      bi(['điểm cầu đang nhận hình', 'points receiving video']),
      el('div', { text: n.delegatesReported.toLocaleString('vi-VN') }),
      bi(['đại biểu đã báo cáo', 'delegates reported']),
    );
  }

  async function act(fn: () => Promise<BroadcastView>): Promise<void> {
    try {
      renderView(await fn());
    } catch (err) {
      say([`Không thực hiện được: ${(err as Error).message}`, `Failed: ${(err as Error).message}`], 'bad');
    }
  }

  goLiveBtn.addEventListener(
    'click',
    () =>
      void act(async () => {
        if (!camera && !mic) await openDevices();
        await publishAll();
        return request('session:goLive', {});
      }),
  );
  endBtn.addEventListener('click', () => {
    if (!confirm(plain(['Kết thúc hội nghị cho tất cả các điểm cầu?', 'End the briefing for every point?']))) return;
    void act(() => request('session:end', {}));
  });
  nextBtn.addEventListener(
    'click',
    () => void act(() => request('agenda:go', { index: view?.caption ? view.caption.index + 1 : 0 })),
  );
  camBtn.addEventListener(
    'click',
    () =>
      void act(async () => {
        const paused = !view?.paused.video;
        if (paused) sender?.producer('host-camera')?.pause();
        else sender?.producer('host-camera')?.resume();
        return request('media:pause', { kind: 'video', paused });
      }),
  );
  micBtn.addEventListener(
    'click',
    () =>
      void act(async () => {
        const paused = !view?.paused.audio;
        if (paused) sender?.producer('host-mic')?.pause();
        else sender?.producer('host-mic')?.resume();
        return request('media:pause', { kind: 'audio', paused });
      }),
  );
  slidesBtn.addEventListener(
    'click',
    () =>
      void act(async () => {
        if (view?.slidesOn) {
          await sender?.unpublish('host-screen');
          screen?.stop();
          screen = undefined;
          return request('slides:set', { on: false });
        }
        const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: 5 }, audio: false });
        screen = s.getVideoTracks()[0]!;
        screen.contentHint = 'detail';
        screen.addEventListener('ended', () => slidesBtn.click());
        if (sender) await sender.publish('host-screen', screen);
        return request('slides:set', { on: true });
      }),
  );
  revokeBtn.addEventListener('click', () => void act(() => request('floor:revoke', {})));

  // ----- socket -----
  socket.on('connect', () => {
    void (async () => {
      try {
        const attached = await request('host:attach', { sessionId });
        renderView(attached.view);
        renderHands(attached.hands);
        renderNumbers(attached.numbers);
        // After a reconnect while live, publish again (the server dropped the old transport).
        if (attached.view.state === 'live' && (camera || mic)) {
          sender?.reset();
          await publishAll();
        }
      } catch (err) {
        say([`Không vào được phiên: ${(err as Error).message}`, `Cannot attach: ${(err as Error).message}`], 'bad');
      }
    })();
  });
  socket.on('connect_error', () => say(['Không kết nối được máy chủ', 'Cannot reach the server'], 'warn'));
  socket.on('disconnect', () =>
    say(['Mất kết nối máy chủ, đang kết nối lại…', 'Lost the server, reconnecting…'], 'warn'),
  );
  socket.on('view', renderView);
  socket.on('hands', renderHands);
  socket.on('numbers', renderNumbers);
  socket.on('rtc:newProducer', (p) => p.source.startsWith('floor-') && void receiver.consume(p).catch(() => undefined));
  socket.on('rtc:producerClosed', ({ producerId }) => receiver.drop({ producerId }));
  socket.on('rtc:consumerClosed', ({ consumerId }) => receiver.drop({ consumerId }));
  socket.on(
    'rtc:reconnect',
    () => void receiver.start(view?.producers.filter((p) => p.source.startsWith('floor-')) ?? []),
  );
  socket.on('rtc:republish', () => {
    sender?.reset();
    void publishAll();
  });

  void listDevices().catch(() => undefined);

  const handle = { socket, receiver, sender: () => sender, view: () => view, open: openDevices };
  (window as unknown as { briefingHost: unknown }).briefingHost = handle;
  return {
    socket,
    close: () => {
      stopMeter?.();
      sender?.reset();
      receiver.close();
      camera?.stop();
      mic?.stop();
      screen?.stop();
      socket.close();
    },
  };
}
