// Attendance and health on the point page: headcount, delegates' check-in QR code,
// problem reports and the 2-second statistics. (Filled by the attendance work; the
// page calls this once with what it has.)
import type { Socket } from 'socket.io-client';
import type { BroadcastView } from '../../../server/contract/broadcast';
import type { BroadcastReceiver } from '../rtc/receiver';

export interface PointExtrasContext {
  socket: Socket;
  container: HTMLElement;
  receiver: BroadcastReceiver;
  view: () => BroadcastView | undefined;
}

export function startPointExtras(ctx: PointExtrasContext): void {
  ctx.container.classList.add('hidden');
}
