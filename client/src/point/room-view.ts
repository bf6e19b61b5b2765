// The room view from the point's side (server/contract/room-view.ts): while the desk asks,
// the page sends a small JPEG of its camera every few seconds over its socket, and says so
// on the screen ("Phòng đang được xem · Room view on"). It only reads the camera: what the
// page receives of the hall is untouched. The camera the floor uses is shared when it is
// on; otherwise the page opens one at the snapshot's size and closes it when asked to stop.
// A page with no camera, or refused one, tells the desk so (`roomview:unavailable`).
import { ROOM_VIEW } from '../../../server/contract/room-view-limits';
import { RequestError, requester } from '../net/request';
import type { PointSocket } from '../net/sockets';
import { bi } from '../ui/i18n';
import { el } from '../ui/shell';

export interface RoomViewOptions {
  socket: PointSocket;
  /** Where the notice goes (shown while sending). */
  container: HTMLElement;
  /** The floor's live camera track, if the page has one. */
  camera: () => MediaStreamTrack | undefined;
}

export interface RoomViewSender {
  /** Snapshots sent since the page loaded (the end-to-end tests read it). */
  readonly sent: () => number;
  readonly active: () => boolean;
}

export function startRoomView(o: RoomViewOptions): RoomViewSender {
  const request = requester(o.socket);
  document.head.append(el('link', { attrs: { rel: 'stylesheet', href: '/assets/room-view.css' } }));
  const notice = el(
    'div',
    { className: 'room-view-on hidden', attrs: { 'data-testid': 'room-view-on', role: 'status' } },
    bi(['Phòng đang được xem', 'Room view on']),
  );
  o.container.append(notice);
  const video = el('video', { attrs: { playsinline: '', muted: '' } });
  video.muted = true;
  const canvas = el('canvas', { attrs: { width: String(ROOM_VIEW.width), height: String(ROOM_VIEW.height) } });
  let until = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let own: MediaStreamTrack | undefined;
  let sent = 0;
  let busy = false;

  const stop = () => {
    until = 0;
    clearTimeout(timer);
    timer = undefined;
    own?.stop();
    own = undefined;
    video.srcObject = null;
    notice.classList.add('hidden');
  };

  const track = async (): Promise<MediaStreamTrack> => {
    const floor = o.camera();
    if (floor?.readyState === 'live') return floor;
    if (own?.readyState !== 'live') {
      const stream = await navigator.mediaDevices.getUserMedia({
        video: { width: ROOM_VIEW.width, height: ROOM_VIEW.height, frameRate: 5 },
        audio: false,
      });
      own = stream.getVideoTracks()[0];
    }
    return own!;
  };

  const snap = async (): Promise<void> => {
    const t = await track();
    if (!(video.srcObject instanceof MediaStream) || video.srcObject.getVideoTracks()[0] !== t) {
      video.srcObject = new MediaStream([t]);
      await video.play().catch(() => undefined);
    }
    if (video.videoWidth === 0) return; // the camera's first frame is not there yet
    // Fill the 16:9 snapshot from the middle of the camera's picture.
    const { width: w, height: h } = canvas;
    const scale = Math.max(w / video.videoWidth, h / video.videoHeight);
    const sw = w / scale;
    const sh = h / scale;
    const ctx = canvas.getContext('2d')!;
    ctx.drawImage(video, (video.videoWidth - sw) / 2, (video.videoHeight - sh) / 2, sw, sh, 0, 0, w, h);
    const blob = await new Promise<Blob | null>((r) => canvas.toBlob(r, 'image/jpeg', 0.6));
    if (!blob) return;
    await request('roomview:frame', { jpeg: await blob.arrayBuffer(), width: w, height: h });
    sent += 1;
  };

  const loop = (periodMs: number) => {
    timer = undefined;
    if (Date.now() > until) return stop();
    if (!busy) {
      busy = true;
      snap()
        .catch((err: unknown) => {
          // The desk stopped watching meanwhile: stop quietly. No camera, or refused: stop
          // and tell the desk, which shows "no camera" instead of waiting.
          if (err instanceof RequestError && err.code === 'forbidden') stop();
          else if (err instanceof DOMException) {
            stop();
            const refused = err.name === 'NotAllowedError' || err.name === 'SecurityError';
            void request('roomview:unavailable', { reason: refused ? 'refused' : 'no-camera' }).catch(() => undefined);
          }
        })
        .finally(() => (busy = false));
    }
    if (until) timer = setTimeout(() => loop(periodMs), periodMs);
  };

  o.socket.on('roomview:on', ({ periodMs, forMs }) => {
    until = Date.now() + forMs;
    notice.classList.remove('hidden');
    if (!timer) loop(Math.max(1000, periodMs));
  });
  o.socket.on('roomview:off', stop);
  o.socket.on('disconnect', stop);

  return { sent: () => sent, active: () => until > Date.now() };
}
