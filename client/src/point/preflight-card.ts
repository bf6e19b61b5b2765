// The point page's pre-flight card in the lobby: a button that runs the whole check
// (speaker, camera, microphone need the technician's click), the network part run by
// itself once per page as soon as the hall sends, and again when the desk asks.
import type { BroadcastView } from '../../../server/contract/broadcast';
import type { PointSocket } from '../net/sockets';
import { requester } from '../net/request';
import type { BroadcastReceiver } from '../rtc/receiver';
import { failed } from '../ui/errors';
import { bi, plain, setBi, type Text } from '../ui/i18n';
import { el } from '../ui/shell';
import { runPreflight } from './preflight';

export interface PreflightCard {
  /** From the lobby on, runs the network part once, when the first stream has arrived. */
  auto(): void;
}

export function startPreflightCard(o: {
  socket: PointSocket;
  receiver: BroadcastReceiver;
  container: HTMLElement;
  view: () => BroadcastView | undefined;
  say: (text: Text) => void;
}): PreflightCard {
  const request = requester(o.socket);
  const button = el('button', { className: 'primary', attrs: { 'data-testid': 'preflight-run' } });
  setBi(button, ['Kiểm tra kỹ thuật', 'Run the technical check']);
  const out = el('div', { attrs: { 'data-testid': 'preflight-result' } });
  o.container.append(bi(['Kiểm tra trước hội nghị', 'Pre-flight check'], 'h3'), button, out);

  /** Runs the check and reports it; `devices` (speaker, camera, microphone) needs a click. */
  function run(devices: boolean): Promise<void> {
    button.disabled = true;
    return runPreflight(o.receiver, out, { devices })
      .then((report) => request('preflight:report', report))
      .then(() => undefined)
      .catch((err: unknown) => {
        out.append(el('p', { className: 'bad', text: plain(failed(['Lỗi kiểm tra', 'Check failed'], err)) }));
      })
      .finally(() => (button.disabled = false));
  }
  button.addEventListener('click', () => void run(true));

  let done = false;
  let wait: ReturnType<typeof setTimeout> | undefined;
  function auto(): void {
    clearTimeout(wait);
    const state = o.view()?.state;
    if (done || (state !== 'lobby' && state !== 'live')) return;
    if (o.receiver.consumers().length === 0) {
      wait = setTimeout(auto, 1000);
      return;
    }
    done = true;
    void run(false);
  }
  o.socket.on('preflight:run', () => {
    o.say(['Bàn kỹ thuật yêu cầu kiểm tra lại', 'The desk asked for the check again']);
    if (!button.disabled) void run(false);
  });
  return { auto };
}
