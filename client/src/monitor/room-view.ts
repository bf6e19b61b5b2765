// The room view on the desk's pages (server/contract/room-view.ts): a point's snapshots,
// drawn on a canvas as they arrive. `RoomViewFeed` takes the monitor socket's snapshots
// and hands each to the view showing that point; the page says which points it shows
// (`watch`), and the server asks exactly those points to send.
import { ROOM_VIEW, type RoomViewFrame, type RoomViewUnavailableReason } from '../../../server/contract/room-view';
import type { MonitorSocket } from '../net/sockets';
import { requester } from '../net/request';
import { setBi } from '../ui/i18n';
import { el } from '../ui/shell';

document.head.append(el('link', { attrs: { rel: 'stylesheet', href: '/assets/room-view.css' } }));

/** One point's picture: a canvas and a line saying how fresh it is. */
export class RoomView {
  readonly canvas = el('canvas', {
    className: 'room-view-canvas',
    attrs: { width: String(ROOM_VIEW.width), height: String(ROOM_VIEW.height), 'data-testid': 'room-view-canvas' },
  });
  readonly #note = el('span', { className: 'room-view-note' });
  readonly node = el('div', { className: 'room-view', attrs: { 'data-testid': 'room-view' } }, this.canvas, this.#note);
  /** Snapshots drawn (the end-to-end tests read it), and when the last one came. */
  frames = 0;
  #last = 0;

  constructor() {
    this.clear();
  }

  clear(): void {
    this.frames = 0;
    this.#last = 0;
    this.canvas.dataset.frames = '0';
    delete this.node.dataset.unavailable;
    this.node.classList.remove('unavailable');
    this.canvas.getContext('2d')?.clearRect(0, 0, this.canvas.width, this.canvas.height);
    setBi(this.#note, ['Đang chờ hình phòng…', 'Waiting for the room…']);
  }

  async draw(f: RoomViewFrame): Promise<void> {
    const bitmap = await createImageBitmap(new Blob([f.jpeg as BlobPart], { type: 'image/jpeg' }));
    if (this.canvas.width !== bitmap.width || this.canvas.height !== bitmap.height) {
      this.canvas.width = bitmap.width;
      this.canvas.height = bitmap.height;
    }
    this.canvas.getContext('2d')?.drawImage(bitmap, 0, 0);
    bitmap.close();
    this.frames += 1;
    this.#last = Date.now();
    delete this.node.dataset.unavailable;
    this.node.classList.remove('unavailable');
    this.canvas.dataset.frames = String(this.frames);
    this.tick();
  }

  /** The point has no camera to send (or it was refused): said instead of waiting. */
  unavailable(reason: RoomViewUnavailableReason): void {
    this.#last = 0;
    this.node.dataset.unavailable = reason;
    this.node.classList.add('unavailable');
    this.node.classList.remove('stale');
    setBi(
      this.#note,
      reason === 'refused'
        ? ['Không có camera (bị từ chối quyền)', 'No camera (permission refused)']
        : ['Không có camera', 'No camera'],
    );
  }

  /** Says whether the picture is fresh; called every few seconds by the feed. */
  tick(): void {
    if (!this.#last) return;
    const age = Math.round((Date.now() - this.#last) / 1000);
    if (age * 1000 > ROOM_VIEW.periodMs * 3) setBi(this.#note, [`Hình cũ ${age} giây`, `Picture ${age} s old`]);
    else setBi(this.#note, ['Hình phòng', 'Room view']);
    this.node.classList.toggle('stale', age * 1000 > ROOM_VIEW.periodMs * 3);
  }
}

export class RoomViewFeed {
  readonly #views = new Map<string, RoomView>();
  readonly #request;
  #sessionId = '';
  #watched: string[] = [];
  readonly #timer: ReturnType<typeof setInterval>;

  constructor(socket: MonitorSocket) {
    this.#request = requester(socket);
    socket.on('roomview:frame', (f) => {
      if (f.sessionId !== this.#sessionId) return;
      void this.#views
        .get(f.pointId)
        ?.draw(f)
        .catch(() => undefined);
    });
    socket.on('roomview:unavailable', (u) => {
      if (u.sessionId === this.#sessionId) this.#views.get(u.pointId)?.unavailable(u.reason);
    });
    // A reconnected socket has lost its rooms on the server: the page watches its session
    // again (`monitor:watch`, which rooms need), then says again what it shows.
    this.#timer = setInterval(() => {
      for (const v of this.#views.values()) v.tick();
    }, 2000);
  }

  /** Shows these points' rooms in these views (replacing what was shown); none stops all. */
  async watch(sessionId: string, views: Map<string, RoomView>): Promise<void> {
    this.#views.clear();
    for (const [id, v] of views) this.#views.set(id, v);
    this.#sessionId = sessionId;
    this.#watched = [...views.keys()];
    await this.#send();
  }

  close(): void {
    clearInterval(this.#timer);
  }

  async #send(): Promise<void> {
    if (!this.#sessionId) return;
    await this.#request('roomview:watch', { sessionId: this.#sessionId, pointIds: this.#watched });
  }
}
