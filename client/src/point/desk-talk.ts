// The point page's messages with the central desk: a small panel where the technician
// writes to the desk and reads its answers (to this point, its district or every point).
// The conversation is read from the server on every connect, so a reload keeps it.
import type { PointSocket } from '../net/sockets';
import { requester } from '../net/request';
import { failed } from '../ui/errors';
import { bi, setBi, type Text } from '../ui/i18n';
import { TalkBox } from '../ui/talk';

export function startDeskTalk(o: { socket: PointSocket; container: HTMLElement; say: (text: Text) => void }): void {
  const request = requester(o.socket);
  const box = new TalkBox(['Nhắn bàn kỹ thuật trung tâm', 'Message the central desk'], async (text) => {
    try {
      box.add(await request('talk:send', { text }));
    } catch (err) {
      setBi(box.out, failed(['Không gửi được', 'Could not send'], err));
      throw err;
    }
  });
  o.container.classList.add('talk');
  o.container.setAttribute('data-testid', 'point-talk');
  o.container.replaceChildren(
    bi(['Trao đổi với bàn kỹ thuật', 'Messages with the desk'], 'h3'),
    box.list,
    box.form,
    box.out,
  );
  o.socket.on('connect', () => {
    request('talk:history', {}).then(
      ({ messages }) => box.set(messages),
      () => undefined,
    );
  });
  o.socket.on('talk', (m) => {
    if (!box.add(m) || m.from !== 'desk') return;
    o.say([`Bàn kỹ thuật nhắn: ${m.text}`, `Message from the desk: ${m.text}`]);
  });
}
