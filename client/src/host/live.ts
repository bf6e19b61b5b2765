// The live part of the host console: pick camera and microphone (preview, level meter),
// optional screen for slides, go live, pause camera or microphone, move through the
// agenda, see live numbers and raised hands, give and take back the floor, end.
// The layout and its renderers are in ./live-view.ts, the media in ./live-media.ts; this
// module holds the host socket and wires the buttons and the server's pushes to them.
import type { BroadcastView } from '../../../server/contract/broadcast';
import type { HostClientEvents } from '../../../server/contract/namespaces';
import { requester, type Request } from '../net/request';
import { connectHost, type HostSocket } from '../net/sockets';
import { failed } from '../ui/errors';
import { plain, type Text } from '../ui/i18n';
import { isChunkUnavailable } from '../ui/page-status';
import { mountAgendaDocuments } from './agenda-documents';
import { HostMedia } from './live-media';
import {
  liveLayout,
  renderHands,
  renderNumbers,
  renderCameraButton,
  renderRecording,
  renderView,
  type AgendaItemView,
  type LiveLayout,
} from './live-view';
import { mountSourcePanel } from './source-panel';
import { mountTalkPanel } from './talk-panel';

/** The console's line when mediasoup-client's chunk fails while the briefing is live. */
const LIVE_MEDIA_UNAVAILABLE_TEXT: Text = [
  'Không tải được thành phần nhận hình: không xem, nghe được điểm cầu phát biểu; hình và tiếng của hội trường vẫn phát. Tải lại trang khi có thể.',
  "Could not load the media component: a point given the floor cannot be seen or heard here; the hall's picture and sound stay on air. Reload this page when you can.",
];

export type { AgendaItemView } from './live-view';

export interface LiveConsole {
  socket: HostSocket;
  close: () => void;
}

export interface LiveConsoleHooks {
  /**
   * The session's state as the console sees it (the attach answer, `view` events, the
   * answers to its own requests), so the session card around it can follow.
   */
  onState?: (state: BroadcastView['state']) => void;
}

type HostRequest = Request<HostClientEvents>;

export function mountLiveConsole(
  container: HTMLElement,
  sessionId: string,
  agenda: AgendaItemView[],
  hooks: LiveConsoleHooks = {},
): LiveConsole {
  const socket = connectHost({ transports: ['websocket', 'polling'], reconnectionDelayMax: 5000 });
  const request = requester(socket);
  let view: BroadcastView | undefined;
  /** mediasoup-client's chunk failed while live: said on every view until a reload. */
  let liveMediaUnavailable = false;
  const ui = liveLayout(container);
  const floorProducers = () => view?.producers.filter((p) => p.source.startsWith('floor-')) ?? [];
  const media = new HostMedia(socket, request, ui, floorProducers, () => allowGoLive());

  function showView(v: BroadcastView): void {
    const stateChanged = view?.state !== v.state;
    view = v;
    renderView(ui, v, agenda, (i) => v.state === 'live' && void act(() => request('agenda:go', { index: i })));
    // The status line says the live state again on every view; the warning stays above it.
    if (liveMediaUnavailable && v.state === 'live') ui.say(LIVE_MEDIA_UNAVAILABLE_TEXT, 'bad');
    sources.showHall(v.hall);
    allowGoLive();
    // The briefing is over: the camera and microphone go off at once.
    if (stateChanged && (v.state === 'ended' || v.state === 'cancelled')) media.close();
    if (stateChanged) hooks.onState?.(v.state);
  }

  /** Going live needs the lobby and a camera showing in the preview; the camera button follows. */
  function allowGoLive(): void {
    const cameraOn = media.camera?.readyState === 'live';
    ui.goLiveBtn.disabled = view?.state !== 'lobby' || !cameraOn;
    ui.goLiveBtn.title = cameraOn ? '' : plain(['Cần bật camera trước', 'Turn the camera on first']);
    renderCameraButton(ui, cameraOn, view?.state === 'live', media.sending);
  }

  /** Opens the chosen camera and microphone into the preview and the level meter, or closes them. */
  async function togglePreview(): Promise<void> {
    if (media.camera?.readyState === 'live' && view?.state !== 'live') media.closeDevices();
    else {
      try {
        if (media.camera?.readyState !== 'live') await media.openDevices();
      } catch (err) {
        ui.say(failed(['Không mở được camera/micro', 'Cannot open camera/microphone'], err), 'bad');
        return allowGoLive();
      }
      await goOnAirIfLive();
    }
    allowGoLive();
  }

  /**
   * A console opened (or reloaded) while live whose camera opened after it attached, or
   * whose publish failed, sends nothing: what it holds goes on air.
   */
  async function goOnAirIfLive(): Promise<void> {
    if (view?.state !== 'live' || media.sending || !(media.camera || media.mic)) return;
    await onAir(() => media.publishAll());
  }

  /**
   * Puts the camera and microphone on air (a first publish, or again after the server
   * dropped the transport). The camera button shows the publish while it runs; a failed one
   * is said, and the button then offers to try again (HostMedia.sending is false).
   */
  async function onAir(publish: () => Promise<void>): Promise<void> {
    const publishing = publish();
    allowGoLive();
    try {
      await publishing;
    } catch (err) {
      if (!mediaUnavailable(err)) ui.say(failed(['Không phát lên được', 'Cannot go on air'], err), 'bad');
    } finally {
      allowGoLive();
    }
  }

  /**
   * mediasoup-client's chunk did not load (`chunk_unavailable`). Before the briefing is live
   * the console reloads (ui/page-status.ts). While it is live a reload would take the
   * hall's camera and microphone off the air for every point, so the console keeps what it
   * sends and says that a point's floor cannot be seen or heard here until the page is
   * reloaded.
   */
  function mediaUnavailable(err: unknown): boolean {
    if (view?.state !== 'live') return ui.mediaUnavailable(err);
    if (!isChunkUnavailable(err)) return false;
    liveMediaUnavailable = true;
    ui.say(LIVE_MEDIA_UNAVAILABLE_TEXT, 'bad');
    return true;
  }

  /** Runs one request of the host and draws the view it answers, or says why it failed. */
  async function act(fn: () => Promise<BroadcastView>): Promise<void> {
    try {
      showView(await fn());
    } catch (err) {
      if (mediaUnavailable(err)) return;
      ui.say(failed(['Không thực hiện được', 'Failed'], err), 'bad');
    }
  }

  wireControls(ui, media, request, act, () => view);
  const sources = mountSourcePanel(container.querySelector('.live-grid') ?? container, socket, request, act);
  mountAgendaDocuments(container.querySelector('.live-grid') ?? container, sessionId, agenda);
  const talk = mountTalkPanel(container.querySelector('.live-grid') ?? container, socket, request, act);
  const recordingClock = setInterval(() => renderRecording(ui, view), 1000);

  socket.on('connect', () => {
    void (async () => {
      try {
        const attached = await request('host:attach', { sessionId });
        showView(attached.view);
        sources.refresh();
        talk.refresh();
        renderHands(ui, attached.hands, give);
        renderNumbers(ui, attached.numbers);
        // After a reconnect while live, publish again (the server dropped the old transport).
        if (attached.view.state === 'live' && (media.camera || media.mic)) await onAir(() => media.republish());
      } catch (err) {
        allowGoLive();
        if (mediaUnavailable(err)) return;
        ui.say(failed(['Không vào được phiên', 'Cannot attach'], err), 'bad');
      }
    })();
  });
  socket.on('connect_error', () => ui.say(['Không kết nối được máy chủ', 'Cannot reach the server'], 'warn'));
  socket.on('disconnect', () =>
    ui.say(['Mất kết nối máy chủ, đang kết nối lại…', 'Lost the server, reconnecting…'], 'warn'),
  );
  socket.on('view', showView);
  socket.on('hands', (hands) => renderHands(ui, hands, give));
  socket.on('numbers', (n) => renderNumbers(ui, n));
  socket.on(
    'rtc:newProducer',
    (p) => p.source.startsWith('floor-') && void media.receiver.consume(p).catch(() => undefined),
  );
  socket.on('rtc:producerClosed', ({ producerId }) => media.receiver.drop({ producerId }));
  socket.on('rtc:consumerClosed', ({ consumerId }) => media.receiver.drop({ consumerId }));
  // mediasoup-client's chunk not loaded is said (and reloads the page when not live); any
  // other failure stays unhandled.
  const reloadIfMediaUnavailable = (err: unknown) => {
    if (!mediaUnavailable(err)) throw err;
  };
  socket.on('rtc:reconnect', () => void media.receiver.start(floorProducers()).catch(reloadIfMediaUnavailable));
  socket.on('rtc:republish', () => void onAir(() => media.republish()));

  function give(pointId: string): void {
    void act(() => request('floor:grant', { pointId }));
  }

  ui.cameraBtn.addEventListener('click', () => void togglePreview());
  // Preview and level before going live: the host sees and hears what the points will.
  void togglePreview();

  const handle = {
    socket,
    receiver: media.receiver,
    sender: () => media.sender,
    view: () => view,
    open: () => media.openDevices(),
    /** The camera and microphone tracks this console holds (none once the briefing ended). */
    tracks: () => [media.camera, media.mic].filter((t) => t !== undefined),
  };
  (window as unknown as { briefingHost: unknown }).briefingHost = handle;
  return {
    socket,
    close: () => {
      clearInterval(recordingClock);
      media.close();
      socket.close();
    },
  };
}

/** The console's buttons: go live, end, next item, pause camera or microphone, slides, take back the floor. */
function wireControls(
  ui: LiveLayout,
  media: HostMedia,
  request: HostRequest,
  act: (fn: () => Promise<BroadcastView>) => Promise<void>,
  view: () => BroadcastView | undefined,
): void {
  ui.goLiveBtn.addEventListener(
    'click',
    () =>
      void act(async () => {
        if (media.camera?.readyState !== 'live') await media.openDevices();
        await media.publishAll();
        return request('session:goLive', {});
      }),
  );
  ui.endBtn.addEventListener('click', () => {
    if (!confirm(plain(['Kết thúc hội nghị cho tất cả các điểm cầu?', 'End the briefing for every point?']))) return;
    void act(() => request('session:end', {}));
  });
  ui.recordToggle.addEventListener('change', () => {
    void act(() => request('recording:set', { on: ui.recordToggle.checked }));
  });
  ui.nextBtn.addEventListener('click', () => {
    const caption = view()?.caption;
    void act(() => request('agenda:go', { index: caption ? caption.index + 1 : 0 }));
  });
  ui.camBtn.addEventListener(
    'click',
    () =>
      void act(async () => {
        const paused = !view()?.paused.video;
        media.setPaused('host-camera', paused);
        return request('media:pause', { kind: 'video', paused });
      }),
  );
  ui.micBtn.addEventListener(
    'click',
    () =>
      void act(async () => {
        const paused = !view()?.paused.audio;
        media.setPaused('host-mic', paused);
        return request('media:pause', { kind: 'audio', paused });
      }),
  );
  ui.slidesBtn.addEventListener(
    'click',
    () =>
      void act(async () => {
        if (view()?.slidesOn) {
          await media.stopSlides();
          return request('slides:set', { on: false });
        }
        await media.startSlides(() => ui.slidesBtn.click());
        return request('slides:set', { on: true });
      }),
  );
  ui.revokeBtn.addEventListener('click', () => void act(() => request('floor:revoke', {})));
  ui.floorMuteBtn.addEventListener(
    'click',
    () => void act(() => request('floor:mute', { muted: !view()?.floor?.muted })),
  );
}
