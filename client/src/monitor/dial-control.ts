// A call to the point's room system, from its detail (hosts and admins): the server calls
// the SIP address typed here, or the registry's when the field is left empty, and the line
// says where the call stands: calling, ringing, connected, or why it failed (with the SIP
// status). "Hang up" cancels a call not answered yet or ends one placed from here.
import type { DialStatus } from '../../../server/contract/dial-out';
import { failed } from '../ui/errors';
import { bi, plain, setBi, type Text } from '../ui/i18n';
import { el } from '../ui/shell';

const STATE_TEXT: Record<DialStatus['state'], Text> = {
  calling: ['Đang gọi…', 'Calling…'],
  ringing: ['Đang đổ chuông…', 'Ringing…'],
  connected: ['Đã kết nối', 'Connected'],
  failed: ['Không gọi được', 'Call failed'],
  ended: ['Cuộc gọi đã kết thúc', 'Call ended'],
};

export interface DialActions {
  dial(pointId: string, address: string | undefined): Promise<DialStatus>;
  hangUp(pointId: string): Promise<unknown>;
}

export class DialControl {
  readonly #address = el('input', {
    attrs: { type: 'text', 'data-testid': 'detail-dial-address', placeholder: 'sip:user@host', maxlength: '256' },
  });
  readonly #call = el('button', { attrs: { type: 'button', 'data-testid': 'detail-dial-call' } });
  readonly #hangUp = el('button', { attrs: { type: 'button', 'data-testid': 'detail-dial-hangup' } });
  readonly #line = el('span', { attrs: { 'data-testid': 'detail-dial', role: 'status' } });
  readonly node = el(
    'div',
    { className: 'dial-control hidden' },
    bi(['Gọi thiết bị phòng họp (SIP)', 'Call the room system (SIP)']),
    this.#address,
    this.#call,
    this.#hangUp,
    this.#line,
  );
  #pointId: string | undefined;

  constructor(private readonly actions: DialActions) {
    setBi(this.#call, ['Gọi', 'Call room system']);
    setBi(this.#hangUp, ['Gác máy', 'Hang up']);
    this.#call.addEventListener('click', () => {
      const id = this.#pointId;
      if (!id) return;
      this.#call.disabled = true;
      const typed = this.#address.value.trim();
      this.actions
        .dial(id, typed || undefined)
        .then((s) => this.update(s))
        .catch((err: unknown) => this.#say(plain(failed(['Không gọi được', 'Could not call'], err)), 'failed'))
        .finally(() => (this.#call.disabled = false));
    });
    this.#hangUp.addEventListener('click', () => {
      const id = this.#pointId;
      if (!id) return;
      this.actions.hangUp(id).catch((err: unknown) => this.#say(plain(failed(['Không gác máy được', 'Failed'], err))));
    });
  }

  /** `mayControl`: this account may have room systems called (hosts and admins). */
  show(pointId: string, mayControl: boolean, sipAddress: string | undefined): void {
    if (this.#pointId !== pointId) this.#say('');
    this.#pointId = pointId;
    this.#address.value = '';
    this.#address.placeholder = sipAddress || 'sip:user@host';
    this.node.classList.toggle('hidden', !mayControl);
  }

  hide(): void {
    this.#pointId = undefined;
  }

  /** A step of a call (the answer to `sip:dial`, then the pushes): shown if it is this point's. */
  update(s: DialStatus): void {
    if (s.pointId !== this.#pointId) return;
    const base = plain(STATE_TEXT[s.state]);
    const why =
      s.state === 'failed' ? `${s.status ? ` (SIP ${s.status})` : ''}${s.message ? `: ${s.message}` : ''}` : '';
    this.#say(`${base}${why} · ${s.address}`, s.state);
  }

  #say(text: string, state?: string): void {
    this.#line.textContent = text;
    if (state) this.#line.dataset.state = state;
    else delete this.#line.dataset.state;
  }
}
