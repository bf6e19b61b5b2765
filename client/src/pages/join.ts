// The connection point's page (/join/<token>), run by the point's technician on the
// room's screen: before the lobby a countdown; in the lobby the pre-flight check; when
// live the hall full-screen with the agenda caption; raise hand, the floor, modes for
// weak links. Reconnects by itself (socket and ICE) without a reload, and rebuilds its
// media when the hall's tracks stall while everything looks connected (point/watch-media.ts).
// What the page shows is drawn by point/layout.ts; this module holds the point's socket and
// media and wires them to it. A mediasoup-client chunk that did not load reloads the page
// (ui/page-status.ts).
import type { JoinInfo } from '../../../server/contract/api';
import type { BroadcastView, PointMode, ViewerMode } from '../../../server/contract/broadcast';
import type { ErrorReason } from '../../../server/contract/errors';
import { requester, RequestError } from '../net/request';
import { connectPoint } from '../net/sockets';
import { BroadcastReceiver, type ReceivedTrack } from '../rtc/receiver';
import { JoinStages, readsJoinStages } from '../rtc/join-stages';
import { MediaSender } from '../rtc/sender';
import { failed, REASON_TEXT } from '../ui/errors';
import { setBi, type Text } from '../ui/i18n';
import { MODE_TEXT } from '../ui/modes';
import { mountShell } from '../ui/shell';
import { startPreflightCard } from '../point/preflight-card';
import { startPointAttendance } from '../point/attendance';
import { startDeskTalk } from '../point/desk-talk';
import { followAssignment, homeFallback } from '../point/cluster';
import { startMediaWatch } from '../point/watch-media';
import { startRoomView } from '../point/room-view';
import { pointDocuments } from '../point/documents';
import { PointPhase } from '../point/phase';
import { pointLayout } from '../point/layout';

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

const documents = pointDocuments(token);
const layout = pointLayout(main, documents.node);
const { status, stage, controls, handBtn, modeSelect, onAir } = layout;

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
      status.say(['Đã kết nối, đang nhận tín hiệu', 'Connected, receiving'], 'ok');
      phase.on('media-connected');
    } else {
      if (s === 'reconnecting')
        status.say(['Mất kết nối hình ảnh, đang kết nối lại…', 'Media connection lost, reconnecting…'], 'warn');
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
  layout.showTracks(tracks.values(), Boolean(view?.slidesOn));
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
  status.say(
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
    status.say(refusal, 'bad');
    stage.classList.add('hidden');
    controls.classList.add('hidden');
  } else {
    status.say(['Không kết nối được máy chủ, đang thử lại…', 'Cannot reach the server, retrying…'], 'warn');
    fallback.failed();
  }
});

socket.on('disconnect', (reason) => {
  if (reason === 'io client disconnect') return;
  phase.on('socket-lost');
  status.say(['Mất kết nối máy chủ, đang kết nối lại…', 'Lost the server, reconnecting…'], 'warn');
});

socket.on('connect', () => {
  joinStages.mark('socket');
  fallback.connected();
  status.say(['Đã kết nối máy chủ', 'Connected to the server'], 'ok');
  // The device loads while the view is asked for: the media's first step needs both.
  void receiver.prepare().catch((err) => status.mediaUnavailable(err));
  void (async () => {
    try {
      render(await request('view:get', {}));
      phase.on('view-shown');
      if (handRaised) await request('hand:raise', {}).catch(() => undefined);
      await startMedia();
      autoPreflight();
    } catch (err) {
      if (status.mediaUnavailable(err)) return;
      if (err instanceof RequestError) status.say(failed(['Lỗi', 'Error'], err), 'bad');
    }
  })();
});

socket.on('view', (v) => render(v));
socket.on('rtc:newProducer', (p) => void receiver.consume(p).catch(() => undefined));
socket.on('rtc:producerClosed', ({ producerId }) => receiver.drop({ producerId }));
socket.on('rtc:consumerClosed', ({ consumerId }) => receiver.drop({ consumerId }));
socket.on('rtc:reconnect', () => void startMedia().catch((err) => status.mediaUnavailable(err)));
socket.on('floor:you', ({ granted }) => void setFloor(granted));
// The kept mode (after a reconnect or a reload), or the desk's choice, which this page applies.
socket.on('mode', (m: PointMode) => {
  const changed = modeSelect.value !== m.mode;
  modeSelect.value = m.mode;
  if (m.by !== 'desk' || !changed) return;
  const [vi, en] = MODE_TEXT[m.mode];
  status.say([`Bàn kỹ thuật chuyển chế độ: ${vi}`, `The desk set the mode: ${en}`], 'info');
  void request('mode:set', { mode: m.mode }).catch(() => undefined);
});
socket.on('kicked', ({ reason }) => {
  socket.disconnect();
  phase.on('refused');
  status.say([`Đã ngắt kết nối: ${reason}`, `Disconnected: ${reason}`], 'bad');
});

async function startMedia(): Promise<void> {
  if (!view || !['lobby', 'live'].includes(view.state)) return;
  await receiver.start(view.producers);
}

// ----- rendering -----
function render(v: BroadcastView): void {
  const before = view;
  view = v;
  layout.draw(v);
  documents.update(v);
  if (v.state === 'ended') {
    status.say(['Hội nghị đã kết thúc. Cảm ơn quý đại biểu.', 'The briefing has ended. Thank you.'], 'info');
    receiver.close();
    phase.on('media-down');
  } else if (v.state === 'cancelled') {
    status.say(['Hội nghị đã bị hủy.', 'The briefing was cancelled.'], 'bad');
    receiver.close();
    phase.on('media-down');
  } else if (v.state === 'live' && before?.state !== 'live') {
    status.say(['Hội nghị đang diễn ra', 'The briefing is live'], 'ok');
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
      status.say(failed(['Không gửi được', 'Could not send'], err), 'warn');
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
      status.say(
        [
          'Bạn đang được phát biểu: hình và tiếng của điểm cầu đang phát đi',
          'You have the floor: your camera and microphone are live',
        ],
        'ok',
      );
    } catch (err) {
      status.say(
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
    status.say(['Đã kết thúc phát biểu', 'Your floor has ended'], 'info');
  }
}

// ----- lobby pre-flight -----
const preflightCard = startPreflightCard({
  socket,
  receiver,
  container: layout.preflightBox,
  view: () => view,
  say: (text) => status.say(text, 'info'),
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
      status.say(['Không nhận được hình, đang kết nối lại…', 'No picture arriving, reconnecting the media…'], 'warn');
  },
});

startDeskTalk({ socket, container: layout.talkBox, say: (text) => status.say(text, 'info') });

startPointAttendance({
  socket,
  container: layout.extrasBox,
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
