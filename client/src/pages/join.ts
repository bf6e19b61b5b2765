// The connection point's page (/join/<token>), run by the point's technician on the
// room's screen: before the lobby a countdown; in the lobby the pre-flight check; when
// live the hall full-screen with the agenda caption; raise hand, the floor, modes for
// weak links. Reconnects by itself (socket and ICE) without a reload, and rebuilds its
// media when the hall's tracks stall while everything looks connected (point/watch-media.ts).
import type { JoinInfo } from '../../../server/contract/api';
import type { BroadcastView, PointMode, ViewerMode } from '../../../server/contract/broadcast';
import type { ErrorReason } from '../../../server/contract/errors';
import { RELOAD_GLOBAL } from '../boot/marker';
import { requester, RequestError } from '../net/request';
import { connectPoint } from '../net/sockets';
import { BroadcastReceiver, type ReceivedTrack } from '../rtc/receiver';
import { JoinStages, readsJoinStages } from '../rtc/join-stages';
import { MediaSender } from '../rtc/sender';
import { failed, REASON_TEXT } from '../ui/errors';
import { bi, formatCountdown, plain, setBi, type Text } from '../ui/i18n';
import { showTime, zoneText } from '../ui/time';
import { MODE_TEXT } from '../ui/modes';
import { el, mountShell } from '../ui/shell';
import { startPreflightCard } from '../point/preflight-card';
import { startPointAttendance } from '../point/attendance';
import { startDeskTalk } from '../point/desk-talk';
import { followAssignment, homeFallback } from '../point/cluster';
import { startMediaWatch } from '../point/watch-media';
import { startRoomView } from '../point/room-view';
import { pointDocuments } from '../point/documents';
import { PointPhase } from '../point/phase';

// The first join's stages, for the benchmarks (window.__joinStages).
const joinStages = new JoinStages(window);
joinStages.mark('script');
const token = decodeURIComponent(location.pathname.split('/').pop() ?? '');
const main = mountShell({ title: { vi: 'Điểm cầu', en: 'Connection point' } });

const REFUSALS: Record<string, Text> = {
  token_invalid: [
    'Đường dẫn không hợp lệ. Hãy dùng đúng đường dẫn được gửi cho điểm cầu.',
    'This link is not valid. Use the link sent to this point.',
  ],
  token_expired: ['Đường dẫn chưa đến giờ hoặc đã hết hạn.', 'This link is not open yet or has expired.'],
  token_revoked: [
    'Đường dẫn đã bị thu hồi. Liên hệ ban tổ chức để nhận đường dẫn mới.',
    'This link was revoked. Ask the organisers for a new one.',
  ],
  not_open: ['Hội nghị chưa mở phòng chờ.', 'The briefing lobby is not open yet.'],
};

// ----- layout -----
const statusLine = el('div', { className: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
const titleLine = el('h2', { className: 'session-title' });
const whenLine = el('p', { className: 'muted' });
const countdown = el('div', { className: 'countdown', attrs: { 'data-testid': 'countdown' } });
const hallVideo = el('video', {
  className: 'hall',
  attrs: { autoplay: '', playsinline: '', 'data-testid': 'hall-video' },
});
hallVideo.muted = true;
const slidesVideo = el('video', {
  className: 'slides hidden',
  attrs: { autoplay: '', playsinline: '', 'data-testid': 'slides-video' },
});
slidesVideo.muted = true;
const floorVideo = el('video', {
  className: 'floor hidden',
  attrs: { autoplay: '', playsinline: '', 'data-testid': 'floor-video' },
});
floorVideo.muted = true;
const audioOut = el('audio', { attrs: { autoplay: '' } });
audioOut.muted = true;
const caption = el('div', { className: 'caption', attrs: { 'data-testid': 'caption' } });
const pausedOverlay = el('div', { className: 'overlay hidden', attrs: { 'data-testid': 'paused' } });
const onAir = el(
  'div',
  { className: 'on-air hidden', attrs: { 'data-testid': 'on-air' } },
  bi(['ĐANG PHÁT BIỂU', 'You are on air']),
);
// The desk paused this point's microphone at the server: the others no longer hear it.
const mutedNote = el(
  'div',
  { className: 'muted-mic hidden', attrs: { 'data-testid': 'floor-muted' } },
  bi(['Bàn điều khiển đã tắt micro của bạn', 'The desk muted your microphone']),
);
onAir.append(mutedNote);
const stage = el('section', { className: 'stage' }, hallVideo, slidesVideo, floorVideo, caption, pausedOverlay, onAir);

const unmuteBtn = el('button', { className: 'primary', attrs: { 'data-testid': 'unmute' } });
setBi(unmuteBtn, ['Bật tiếng', 'Unmute']);
const fullscreenBtn = el('button', {});
setBi(fullscreenBtn, ['Toàn màn hình', 'Full screen']);
const handBtn = el('button', { attrs: { 'data-testid': 'raise-hand' } });
setBi(handBtn, ['Giơ tay phát biểu', 'Raise hand']);
const modeSelect = el(
  'select',
  { attrs: { 'aria-label': 'Chế độ · Mode', 'data-testid': 'mode' } },
  ...Object.entries(MODE_TEXT).map(([value, t]) => el('option', { text: plain(t), attrs: { value } })),
);
const controls = el('div', { className: 'controls' }, unmuteBtn, fullscreenBtn, handBtn, modeSelect);
const preflightBox = el('section', { className: 'card preflight hidden' });
const documents = pointDocuments(token);
const extrasBox = el('section', { className: 'card extras' });
const talkBox = el('section', { className: 'card' });
main.append(
  el('div', { className: 'head' }, titleLine, whenLine, countdown),
  statusLine,
  stage,
  controls,
  documents.node,
  preflightBox,
  talkBox,
  extrasBox,
);

/** Set once the page is reloading for a part that did not load: its status stays. */
let reloading = false;

function status(text: Text, kind: 'info' | 'ok' | 'warn' | 'bad' = 'info'): void {
  if (reloading) return;
  statusLine.className = `status ${kind}`;
  setBi(statusLine, text);
}

// ----- connection -----
const socket = connectPoint({
  auth: { token },
  transports: ['websocket', 'polling'],
  reconnectionDelay: 500,
  reconnectionDelayMax: 5000,
  // Connected once the page knows it stays on this server (point/cluster.ts).
  autoConnect: false,
});
// Where the page is, on <html data-point> (point/phase.ts).
const phase = new PointPhase(document.documentElement, socket);
const fallback = homeFallback(token);
void followAssignment(token).then((moving) => {
  if (!moving) socket.connect();
});
const request = requester(socket);
let view: BroadcastView | undefined;
let handRaised = false;
let sender: MediaSender | undefined;
let floorTracks: MediaStreamTrack[] = [];
const tracks = new Map<string, ReceivedTrack>();

const receiver = new BroadcastReceiver(socket, {
  onTrack: (t) => {
    tracks.set(t.producerId, t);
    attachTracks();
  },
  onTrackEnded: (producerId) => {
    tracks.delete(producerId);
    attachTracks();
  },
  onState: (s) => {
    if (s === 'connected') {
      status(['Đã kết nối, đang nhận tín hiệu', 'Connected, receiving'], 'ok');
      phase.on('media-connected');
    } else {
      if (s === 'reconnecting')
        status(['Mất kết nối hình ảnh, đang kết nối lại…', 'Media connection lost, reconnecting…'], 'warn');
      phase.on('media-down');
    }
  },
  onStep: (step, source) => {
    if (step === 'device' || step === 'transport' || source === 'host-camera') joinStages.mark(step);
    // Read from the hall camera's consumer on (it starts ICE and DTLS): a page in a lobby
    // without the hall's camera reads nothing.
    if (step === 'consumer' && source === 'host-camera' && readsJoinStages(location.search)) joinStages.watch(receiver);
  },
});

// The browser's own capabilities asked while the socket connects (rtc/early-device.ts).
receiver.warmUp();

function attachTracks(): void {
  const bySource = (src: string) => [...tracks.values()].filter((t) => t.source === src).map((t) => t.track);
  const setStream = (video: HTMLVideoElement, list: MediaStreamTrack[]) => {
    video.classList.toggle('hidden', list.length === 0);
    const current = (video.srcObject as MediaStream | null)?.getTracks() ?? [];
    if (current.length === list.length && current.every((t, i) => t === list[i])) return;
    video.srcObject = list.length ? new MediaStream(list) : null;
  };
  setStream(hallVideo, bySource('host-camera'));
  setStream(slidesVideo, view?.slidesOn ? bySource('host-screen') : []);
  setStream(floorVideo, bySource('floor-camera'));
  const audio = [...bySource('host-mic'), ...bySource('floor-mic')];
  audioOut.srcObject = audio.length ? new MediaStream(audio) : null;
  stage.classList.toggle('with-slides', Boolean(view?.slidesOn && bySource('host-screen').length));
  stage.classList.toggle('with-floor', bySource('floor-camera').length > 0);
}

// Before the lobby opens the socket is refused with not_open: show the session from the
// public join info with a countdown, and connect by itself when the lobby opens.
let lobbyTimer: ReturnType<typeof setTimeout> | undefined;
async function showBeforeLobby(): Promise<void> {
  const res = await fetch(`/api/v1/join/${encodeURIComponent(token)}`, { cache: 'no-store' });
  if (!res.ok) return;
  const info = (await res.json()) as JoinInfo;
  render({
    sessionId: info.session.id,
    title: info.session.title,
    state: info.session.state,
    scheduledStart: info.session.scheduledStart,
    lobbyOpensAt: info.session.lobbyOpensAt,
    plannedEnd: info.session.plannedEnd,
    caption: null,
    paused: { video: false, audio: false },
    slidesOn: false,
    recording: { on: false, since: null },
    floor: null,
    producers: [],
    hall: { choice: 'auto', live: null, present: [] },
  });
  status(
    [
      'Hội nghị chưa mở phòng chờ. Trang sẽ tự kết nối khi đến giờ.',
      'The lobby is not open yet. This page connects by itself when it opens.',
    ],
    'info',
  );
  clearTimeout(lobbyTimer);
  // A little after the opening, spread so hundreds of points do not knock at once.
  const wait = Math.max(5_000, Date.parse(info.session.lobbyOpensAt) - Date.now() + Math.random() * 10_000);
  lobbyTimer = setTimeout(
    () => void followAssignment(token).then((moving) => !moving && socket.connect()),
    Math.min(wait, 2 ** 31 - 1),
  );
}

// The point's name in the header, whatever the session's state.
void fetch(`/api/v1/join/${encodeURIComponent(token)}`, { cache: 'no-store' })
  .then(async (res) => {
    if (!res.ok) return;
    const info = (await res.json()) as JoinInfo;
    document.querySelector('header h1')!.textContent = `Điểm cầu: ${info.point.name}`;
    document.title = `${info.point.name} · ${info.session.title}`;
  })
  .catch(() => undefined);

socket.on('connect_error', (err: Error & { data?: { code?: string; reason?: ErrorReason } }) => {
  if (err.data?.code === 'not_open') {
    socket.disconnect();
    void showBeforeLobby().catch(() => undefined);
    return;
  }
  // The reason when the server gave one (cancelled, no longer invited, replaced), else the code.
  const why = err.data?.reason ? REASON_TEXT[err.data.reason] : undefined;
  const refusal = err.data?.code ? ((typeof why === 'object' ? why : undefined) ?? REFUSALS[err.data.code]) : undefined;
  if (refusal) {
    socket.disconnect();
    phase.on('refused');
    status(refusal, 'bad');
    stage.classList.add('hidden');
    controls.classList.add('hidden');
  } else {
    status(['Không kết nối được máy chủ, đang thử lại…', 'Cannot reach the server, retrying…'], 'warn');
    fallback.failed();
  }
});

socket.on('disconnect', (reason) => {
  if (reason === 'io client disconnect') return;
  phase.on('socket-lost');
  status(['Mất kết nối máy chủ, đang kết nối lại…', 'Lost the server, reconnecting…'], 'warn');
});

socket.on('connect', () => {
  joinStages.mark('socket');
  fallback.connected();
  status(['Đã kết nối máy chủ', 'Connected to the server'], 'ok');
  // The device loads while the view is asked for: the media's first step needs both.
  void receiver.prepare().catch(mediaUnavailable);
  void (async () => {
    try {
      render(await request('view:get', {}));
      phase.on('view-shown');
      if (handRaised) await request('hand:raise', {}).catch(() => undefined);
      await startMedia();
      autoPreflight();
    } catch (err) {
      if (mediaUnavailable(err)) return;
      if (err instanceof RequestError) status(failed(['Lỗi', 'Error'], err), 'bad');
    }
  })();
});

socket.on('view', (v) => render(v));
socket.on('rtc:newProducer', (p) => void receiver.consume(p).catch(() => undefined));
socket.on('rtc:producerClosed', ({ producerId }) => receiver.drop({ producerId }));
socket.on('rtc:consumerClosed', ({ consumerId }) => receiver.drop({ consumerId }));
socket.on('rtc:reconnect', () => void startMedia().catch(mediaUnavailable));
socket.on('floor:you', ({ granted }) => void setFloor(granted));
// The kept mode (after a reconnect or a reload), or the desk's choice, which this page applies.
socket.on('mode', (m: PointMode) => {
  const changed = modeSelect.value !== m.mode;
  modeSelect.value = m.mode;
  if (m.by !== 'desk' || !changed) return;
  const [vi, en] = MODE_TEXT[m.mode];
  status([`Bàn kỹ thuật chuyển chế độ: ${vi}`, `The desk set the mode: ${en}`], 'info');
  void request('mode:set', { mode: m.mode }).catch(() => undefined);
});
socket.on('kicked', ({ reason }) => {
  socket.disconnect();
  phase.on('refused');
  status([`Đã ngắt kết nối: ${reason}`, `Disconnected: ${reason}`], 'bad');
});

async function startMedia(): Promise<void> {
  if (!view || !['lobby', 'live'].includes(view.state)) return;
  await receiver.start(view.producers);
}

/**
 * The mediasoup-client chunk did not load (RequestError `chunk_unavailable`): no import
 * in this page can bring it back, so the page says so and reloads through the boot
 * script (boot/marker.ts RELOAD_GLOBAL), which waits longer after each try. Whether `err`
 * was that.
 */
function mediaUnavailable(err: unknown): boolean {
  if (!(err instanceof RequestError) || err.code !== 'chunk_unavailable') return false;
  if (reloading) return true;
  status(
    ['Không tải được thành phần hình ảnh, đang tải lại trang…', 'Could not load the media component, reloading…'],
    'bad',
  );
  reloading = true;
  const reload = (window as unknown as Record<string, unknown>)[RELOAD_GLOBAL];
  if (typeof reload === 'function') reload();
  return true;
}

// ----- rendering -----
let countdownTimer: ReturnType<typeof setInterval> | undefined;
function render(v: BroadcastView): void {
  const before = view;
  view = v;
  titleLine.textContent = v.title;
  whenLine.textContent = `${showTime(v.scheduledStart)} – ${showTime(v.plannedEnd)} (${zoneText()[0]})`;
  clearInterval(countdownTimer);
  countdown.replaceChildren();
  if (v.state === 'scheduled' || v.state === 'lobby' || v.state === 'draft') {
    const target = v.state === 'lobby' ? v.scheduledStart : v.lobbyOpensAt;
    const label: Text = v.state === 'lobby' ? ['Bắt đầu sau', 'Starts in'] : ['Mở phòng chờ sau', 'Lobby opens in'];
    const clock = el('span', { className: 'clock' });
    countdown.append(bi(label), clock);
    const tick = () => (clock.textContent = formatCountdown(Date.parse(target) - Date.now()));
    tick();
    countdownTimer = setInterval(tick, 1000);
  }
  preflightBox.classList.toggle('hidden', v.state !== 'lobby');
  documents.update(v);
  if (v.caption) {
    caption.replaceChildren(
      el('div', { className: 'cap-title', text: v.caption.title }),
      el('div', { className: 'cap-speaker', text: [v.caption.speaker, v.caption.role].filter(Boolean).join(' — ') }),
    );
    caption.classList.remove('hidden');
  } else caption.classList.add('hidden');
  mutedNote.classList.toggle('hidden', !v.floor?.muted);
  const paused = v.paused.video || v.paused.audio;
  pausedOverlay.classList.toggle('hidden', !paused || v.state !== 'live');
  setBi(
    pausedOverlay,
    v.paused.video && v.paused.audio
      ? ['Điểm cầu tỉnh tạm dừng phát', 'The provincial hall has paused the broadcast']
      : v.paused.video
        ? ['Điểm cầu tỉnh tạm tắt hình', 'The hall has paused its camera']
        : ['Điểm cầu tỉnh tạm tắt tiếng', 'The hall has muted its microphone'],
  );
  if (v.state === 'ended') {
    status(['Hội nghị đã kết thúc. Cảm ơn quý đại biểu.', 'The briefing has ended. Thank you.'], 'info');
    receiver.close();
    phase.on('media-down');
  } else if (v.state === 'cancelled') {
    status(['Hội nghị đã bị hủy.', 'The briefing was cancelled.'], 'bad');
    receiver.close();
    phase.on('media-down');
  } else if (v.state === 'live' && before?.state !== 'live') {
    status(['Hội nghị đang diễn ra', 'The briefing is live'], 'ok');
  }
  if (
    before &&
    before.state !== v.state &&
    ['lobby', 'live'].includes(v.state) &&
    !['lobby', 'live'].includes(before.state)
  ) {
    void startMedia().then(autoPreflight);
  }
  attachTracks();
}

// ----- controls -----
unmuteBtn.addEventListener('click', () => {
  const muted = !audioOut.muted;
  audioOut.muted = muted;
  void audioOut.play().catch(() => undefined);
  setBi(unmuteBtn, muted ? ['Bật tiếng', 'Unmute'] : ['Tắt tiếng', 'Mute']);
});
fullscreenBtn.addEventListener('click', () => {
  if (document.fullscreenElement) void document.exitFullscreen();
  else void stage.requestFullscreen().catch(() => undefined);
});
handBtn.addEventListener('click', () => {
  void (async () => {
    try {
      if (handRaised) {
        await request('hand:lower', {});
        handRaised = false;
        setBi(handBtn, ['Giơ tay phát biểu', 'Raise hand']);
      } else {
        const { position } = await request('hand:raise', {});
        handRaised = true;
        setBi(handBtn, [`Hạ tay (thứ tự ${position})`, `Lower hand (position ${position})`]);
      }
    } catch (err) {
      status(failed(['Không gửi được', 'Could not send'], err), 'warn');
    }
  })();
});
modeSelect.addEventListener('change', () => {
  void request('mode:set', { mode: modeSelect.value as ViewerMode }).catch(() => undefined);
});

async function setFloor(granted: boolean): Promise<void> {
  onAir.classList.toggle('hidden', !granted);
  if (granted) {
    handRaised = false;
    setBi(handBtn, ['Giơ tay phát biểu', 'Raise hand']);
    try {
      // A second grant (the origin was rebuilt) starts from a clean sender.
      sender?.reset();
      for (const t of floorTracks) t.stop();
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: { width: 1280, height: 720 } });
      floorTracks = stream.getTracks();
      if (!receiver.device) return;
      sender ??= new MediaSender(socket, receiver.device);
      for (const t of floorTracks) await sender.publish(t.kind === 'video' ? 'floor-camera' : 'floor-mic', t);
      status(
        [
          'Bạn đang được phát biểu: hình và tiếng của điểm cầu đang phát đi',
          'You have the floor: your camera and microphone are live',
        ],
        'ok',
      );
    } catch (err) {
      status(
        [
          `Không bật được camera/micro: ${(err as Error).message}`,
          `Camera/microphone failed: ${(err as Error).message}`,
        ],
        'bad',
      );
    }
  } else {
    sender?.reset();
    for (const t of floorTracks) t.stop();
    floorTracks = [];
    status(['Đã kết thúc phát biểu', 'Your floor has ended'], 'info');
  }
}

// ----- lobby pre-flight -----
const preflightCard = startPreflightCard({
  socket,
  receiver,
  container: preflightBox,
  view: () => view,
  say: (text) => status(text, 'info'),
});
/** Called from the socket's and the view's handlers, which run after this script. */
function autoPreflight(): void {
  preflightCard.auto();
}

const watchdog = startMediaWatch({
  socket,
  receiver,
  view: () => view,
  mode: () => modeSelect.value as ViewerMode,
  rebuild: startMedia,
  onAction: (a) => {
    if (a.type === 'rebuild')
      status(['Không nhận được hình, đang kết nối lại…', 'No picture arriving, reconnecting the media…'], 'warn');
  },
});

startDeskTalk({ socket, container: talkBox, say: (text) => status(text, 'info') });

startPointAttendance({
  socket,
  container: extrasBox,
  receiver,
  view: () => view,
  mediaRebuilds: () => watchdog.rebuilds,
});

// The desk's view of the room, on its request; the notice shows on the hall's picture.
const roomView = startRoomView({
  socket,
  container: stage,
  camera: () => floorTracks.find((t) => t.kind === 'video'),
});

phase.on('wired');

// Exposed for the end-to-end tests and for a technician's console.
(window as unknown as { briefing: unknown }).briefing = {
  socket,
  receiver,
  tracks,
  view: () => view,
  watchdog,
  roomView,
};
