// The console's messages with the points: what the points wrote and the desk answered
// during the session, an answer to every point or to one that wrote, and the floor given
// to that point whether or not it raised its hand.
import type { BroadcastView } from '../../../server/contract/broadcast';
import type { TalkMessage, TalkTarget } from '../../../server/contract/desk';
import type { HostClientEvents } from '../../../server/contract/namespaces';
import type { Request } from '../net/request';
import type { HostSocket } from '../net/sockets';
import { failed } from '../ui/errors';
import { bi, plain, setBi } from '../ui/i18n';
import { el } from '../ui/shell';
import { TalkBox } from '../ui/talk';

export function mountTalkPanel(
  parent: HTMLElement,
  socket: HostSocket,
  request: Request<HostClientEvents>,
  act: (fn: () => Promise<BroadcastView>) => Promise<void>,
): { refresh: () => void } {
  const target = el('select', { attrs: { 'data-testid': 'talk-target', 'aria-label': 'Gửi tới · Send to' } });
  target.append(el('option', { text: plain(['Mọi điểm cầu', 'Every point']), attrs: { value: '' } }));
  const give = el('button', { attrs: { type: 'button', 'data-testid': 'talk-give-floor' } });
  setBi(give, ['Mời điểm cầu này phát biểu', 'Give this point the floor']);
  const box = new TalkBox(
    ['Nhắn cho điểm cầu', 'Message the points'],
    async (text) => {
      const to: TalkTarget = target.value ? { kind: 'point', pointId: target.value } : { kind: 'all' };
      try {
        box.add(await request('talk:send', { to, text }));
      } catch (err) {
        setBi(box.out, failed(['Không gửi được', 'Could not send'], err));
        throw err;
      }
    },
    undefined,
    [target],
  );
  const known = new Set<string>();
  /** A point that wrote becomes a choice of whom to answer. */
  const learn = (m: TalkMessage) => {
    if (m.from !== 'point' || !m.pointId || known.has(m.pointId)) return;
    known.add(m.pointId);
    target.append(el('option', { text: plain([`Riêng ${m.by}`, `Only ${m.by}`]), attrs: { value: m.pointId } }));
  };
  const show = () => (give.hidden = !target.value);
  target.addEventListener('change', show);
  give.addEventListener('click', () => void act(() => request('floor:grant', { pointId: target.value })));
  show();
  parent.append(
    el(
      'section',
      { className: 'card', attrs: { 'data-testid': 'console-talk' } },
      bi(['Trao đổi với điểm cầu', 'Messages with the points'], 'h3'),
      box.list,
      box.form,
      give,
      box.out,
    ),
  );
  socket.on('talk', (m) => {
    learn(m);
    box.add(m);
  });
  return {
    refresh: () =>
      void request('talk:history', {}).then(
        ({ messages }) => {
          box.set(messages);
          messages.forEach(learn);
        },
        () => undefined,
      ),
  };
}
