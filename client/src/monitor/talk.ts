// The shown point's conversation with the desk, in its detail: the messages both ways
// (read from the server when the detail opens, then as they come), and an answer to this
// point, its district or every point.
import type { PointTile } from '../../../server/contract/attendance';
import { talkReaches, type TalkMessage, type TalkTarget } from '../../../server/contract/desk';
import { failed } from '../ui/errors';
import { bi, plain, setBi } from '../ui/i18n';
import { el } from '../ui/shell';
import { TalkBox } from '../ui/talk';

export class TalkPanel {
  readonly #target = el('select', { attrs: { 'data-testid': 'talk-target', 'aria-label': 'Gửi tới · Send to' } });
  readonly #box: TalkBox;
  readonly node: HTMLElement;
  #point: Pick<PointTile, 'id' | 'district' | 'districtName'> | undefined;

  /** `send` writes to the chosen target and answers the stored message. */
  constructor(send: (to: TalkTarget, text: string) => Promise<TalkMessage>) {
    this.#box = new TalkBox(
      ['Nhắn cho điểm cầu', 'Message the point'],
      async (text) => {
        const p = this.#point;
        if (!p) return;
        const kind = this.#target.value;
        const to: TalkTarget =
          kind === 'all'
            ? { kind: 'all' }
            : kind === 'district' && p.district
              ? { kind: 'district', district: p.district }
              : { kind: 'point', pointId: p.id };
        try {
          this.add(await send(to, text));
        } catch (err) {
          setBi(this.#box.out, failed(['Không gửi được', 'Could not send'], err));
          throw err;
        }
      },
      undefined,
      [this.#target],
    );
    this.node = el(
      'section',
      { className: 'talk', attrs: { 'data-testid': 'detail-talk' } },
      bi(['Trao đổi với điểm cầu', 'Messages with the point'], 'h3'),
      this.#box.list,
      this.#box.form,
      this.#box.out,
    );
  }

  /** The detail opened on a point: its conversation so far. */
  show(point: Pick<PointTile, 'id' | 'district' | 'districtName'>, messages: TalkMessage[]): void {
    this.#point = point;
    const options: [string, string][] = [['point', plain(['Riêng điểm cầu này', 'This point'])]];
    if (point.district)
      options.push(['district', plain([`Cả huyện ${point.districtName}`, `The district ${point.districtName}`])]);
    options.push(['all', plain(['Mọi điểm cầu', 'Every point'])]);
    this.#target.replaceChildren(...options.map(([value, text]) => el('option', { text, attrs: { value } })));
    this.#box.set(messages);
  }

  /** A message pushed or sent: shown when it belongs to the shown point's conversation. */
  add(m: TalkMessage): boolean {
    const p = this.#point;
    return !!p && talkReaches(m, p.id, p.district) && this.#box.add(m);
  }

  get pointId(): string | undefined {
    return this.#point?.id;
  }

  hide(): void {
    this.#point = undefined;
  }
}
