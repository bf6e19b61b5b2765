// The floor, from a point's detail (hosts and admins): give this point the floor whether
// or not it raised its hand, mute its microphone, take the floor back. A technician sees
// who holds the floor, without the buttons.
import type { DeskFloor } from '../../../server/contract/desk';
import { failed } from '../ui/errors';
import { bi, plain, setBi, type Text } from '../ui/i18n';
import { el } from '../ui/shell';

export type FloorAction = 'state' | 'grant' | 'mute' | 'unmute' | 'revoke';

const button = (text: Text, testid: string) => {
  const b = el('button', { attrs: { type: 'button', 'data-testid': testid } });
  setBi(b, text);
  return b;
};

export class FloorControl {
  readonly #line = el('span', { attrs: { 'data-testid': 'detail-floor' } });
  readonly #grant = button(['Mời phát biểu', 'Give the floor'], 'detail-floor-grant');
  readonly #mute = button(['Tắt micro', 'Mute microphone'], 'detail-floor-mute');
  readonly #unmute = button(['Bật lại micro', 'Unmute microphone'], 'detail-floor-unmute');
  readonly #revoke = button(['Thu hồi quyền phát biểu', 'Take the floor back'], 'detail-floor-revoke');
  readonly #out = el('span', { className: 'muted', attrs: { role: 'status' } });
  readonly node = el(
    'div',
    { className: 'floor-control' },
    bi(['Phát biểu', 'Floor']),
    this.#line,
    this.#grant,
    this.#mute,
    this.#unmute,
    this.#revoke,
    this.#out,
  );
  #pointId: string | undefined;

  /** `act` asks the server (for the shown point) and answers the floor as it is then. */
  constructor(private readonly act: (action: FloorAction) => Promise<DeskFloor>) {
    const on = (b: HTMLButtonElement, action: FloorAction) =>
      b.addEventListener('click', () => {
        b.disabled = true;
        this.#out.textContent = '';
        act(action)
          .then((f) => this.#pointId && this.show(this.#pointId, f))
          .catch((err: unknown) => (this.#out.textContent = plain(failed(['Không thực hiện được', 'Failed'], err))))
          .finally(() => (b.disabled = false));
      });
    on(this.#grant, 'grant');
    on(this.#mute, 'mute');
    on(this.#unmute, 'unmute');
    on(this.#revoke, 'revoke');
  }

  show(pointId: string, f: DeskFloor): void {
    this.#pointId = pointId;
    const mine = f.floor?.pointId === pointId;
    const text: Text = !f.floor
      ? ['Chưa có điểm cầu nào phát biểu', 'Nobody has the floor']
      : mine
        ? f.floor.muted
          ? ['Đang phát biểu, micro đã tắt', 'Has the floor, microphone muted']
          : ['Đang phát biểu', 'Has the floor']
        : [`Đang phát biểu: ${f.floor.name}`, `On the floor: ${f.floor.name}`];
    this.#line.textContent = plain(text);
    this.#line.dataset.floor = mine ? (f.floor!.muted ? 'muted' : 'speaking') : 'none';
    this.#grant.hidden = !f.mayControl || mine || f.state !== 'live';
    this.#mute.hidden = !f.mayControl || !mine || f.floor!.muted;
    this.#unmute.hidden = !f.mayControl || !mine || !f.floor!.muted;
    this.#revoke.hidden = !f.mayControl || !mine;
  }

  /** Reads the floor again (it may change from the console). */
  refresh(): void {
    const id = this.#pointId;
    if (!id) return;
    this.act('state')
      .then((f) => this.#pointId === id && this.show(id, f))
      .catch(() => undefined);
  }

  hide(): void {
    this.#pointId = undefined;
  }
}
