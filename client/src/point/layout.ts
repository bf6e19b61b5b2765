// What the point page (/join/<token>) shows: its elements (the session's title and times
// with a countdown, the status line, the stage with the hall, slides and floor pictures,
// the caption, the paused notice and the on-air badge, the controls and the cards), how a
// broadcast view and the received tracks are drawn on them, and the buttons that act on
// the page alone (sound, full screen). No socket here: pages/join.ts wires the connection
// and the media to them.
import type { BroadcastView } from '../../../server/contract/broadcast';
import type { ReceivedTrack } from '../rtc/receiver';
import { bi, formatCountdown, plain, setBi, type Text } from '../ui/i18n';
import { MODE_TEXT } from '../ui/modes';
import { PageStatus } from '../ui/page-status';
import { el } from '../ui/shell';
import { showTime, zoneText } from '../ui/time';

export type PointLayout = ReturnType<typeof pointLayout>;

/** Builds the page's elements into `main`, the point's documents (`documents`) among them. */
export function pointLayout(main: HTMLElement, documents: HTMLElement) {
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
  const stage = el(
    'section',
    { className: 'stage' },
    hallVideo,
    slidesVideo,
    floorVideo,
    caption,
    pausedOverlay,
    onAir,
  );

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
  const extrasBox = el('section', { className: 'card extras' });
  const talkBox = el('section', { className: 'card' });
  main.append(
    el('div', { className: 'head' }, titleLine, whenLine, countdown),
    statusLine,
    stage,
    controls,
    documents,
    preflightBox,
    talkBox,
    extrasBox,
  );

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

  let countdownTimer: ReturnType<typeof setInterval> | undefined;
  /** Draws the session's title, times, countdown, caption and notices from `v`. */
  const draw = (v: BroadcastView): void => {
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
  };

  /** Puts the received tracks on the pictures and the sound; the slides only while `slidesOn`. */
  const showTracks = (tracks: Iterable<ReceivedTrack>, slidesOn: boolean): void => {
    const received = [...tracks];
    const bySource = (src: string) => received.filter((t) => t.source === src).map((t) => t.track);
    const setStream = (video: HTMLVideoElement, list: MediaStreamTrack[]) => {
      video.classList.toggle('hidden', list.length === 0);
      const current = (video.srcObject as MediaStream | null)?.getTracks() ?? [];
      if (current.length === list.length && current.every((t, i) => t === list[i])) return;
      video.srcObject = list.length ? new MediaStream(list) : null;
    };
    setStream(hallVideo, bySource('host-camera'));
    setStream(slidesVideo, slidesOn ? bySource('host-screen') : []);
    setStream(floorVideo, bySource('floor-camera'));
    const audio = [...bySource('host-mic'), ...bySource('floor-mic')];
    audioOut.srcObject = audio.length ? new MediaStream(audio) : null;
    stage.classList.toggle('with-slides', Boolean(slidesOn && bySource('host-screen').length));
    stage.classList.toggle('with-floor', bySource('floor-camera').length > 0);
  };

  return {
    status: new PageStatus(statusLine),
    stage,
    onAir,
    controls,
    handBtn,
    modeSelect,
    preflightBox,
    talkBox,
    extrasBox,
    draw,
    showTracks,
  };
}
