// The lobby's technical check: can the browser reach the SFU (UDP, else TCP), round-trip
// time, a short measure of what arrives from the SFU, speaker, camera and microphone.
// The verdict and its reasons are in plain Vietnamese (English beside), and are sent to
// the server so the monitor sees them. It runs by itself in the lobby (and when the desk
// asks) without the devices part: the speaker, camera and microphone need a click, as
// browsers require.
import type { PreflightReport, ToneAnswer } from '../../../server/contract/broadcast';
import type { BroadcastReceiver } from '../rtc/receiver';
import { selectedPair, type SelectedPair } from '../rtc/media-path';
import { mediaErrorKind, playTestTone } from '../ui/media';
import { bi, setBi } from '../ui/i18n';
import { el } from '../ui/shell';

/** How long the tone question waits for an answer before it counts as unanswered. */
const TONE_WAIT_MS = 60_000;

async function bytesReceived(receiver: BroadcastReceiver): Promise<number> {
  let total = 0;
  for (const c of receiver.consumers()) {
    const stats = await c.getStats();
    for (const s of stats.values() as IterableIterator<Record<string, unknown>>) {
      // mediasoup-client adds a 'probator' transceiver; it is not media (browser-e2e note).
      if (s.type === 'inbound-rtp' && s.mid !== 'probator') total += Number(s.bytesReceived ?? 0);
    }
  }
  return total;
}

async function waitForPair(receiver: BroadcastReceiver, timeoutMs: number): Promise<SelectedPair | undefined> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const p = await selectedPair(receiver.transport).catch(() => undefined);
    if (p) return p;
    await new Promise((r) => setTimeout(r, 500));
  }
  return undefined;
}

/** The speaker, camera and microphone as last checked on this page (they need a click). */
let lastDevices:
  (Pick<PreflightReport, 'speaker' | 'camera' | 'microphone' | 'tone'> & { reasons: string[] }) | undefined;

export async function runPreflight(
  receiver: BroadcastReceiver,
  out: HTMLElement,
  opts: { devices: boolean } = { devices: true },
): Promise<PreflightReport> {
  out.replaceChildren(el('p', { text: 'Đang kiểm tra… · Checking…' }));
  const reasons: string[] = [];

  // The media path opens with the first stream received: before the hall sends, it cannot
  // be tested, which is a warning, not a failure.
  const sending = receiver.consumers().length > 0;
  const pair = sending ? await waitForPair(receiver, 10_000) : undefined;
  if (!sending)
    reasons.push(
      'Điểm cầu tỉnh chưa phát nên chưa kiểm tra được đường truyền hình ảnh. · The hall is not sending yet, so the media path was not tested.',
    );
  else if (!pair)
    reasons.push(
      'Không kết nối được máy chủ hình ảnh qua UDP hay TCP: kiểm tra tường lửa. · Cannot reach the media server over UDP or TCP: check the firewall.',
    );
  else if (pair.path === 'tcp')
    reasons.push(
      'Đang dùng TCP vì UDP bị chặn: hình có thể trễ hơn. · Using TCP because UDP is blocked: expect more delay.',
    );
  else if (pair.path === 'relay')
    reasons.push(
      'Tường lửa chặn đường trực tiếp: hình đi qua máy chủ chuyển tiếp (TURN), có thể trễ hơn. · The firewall blocks the direct path: media goes through the TURN relay, expect more delay.',
    );
  if (pair?.rttMs != null && pair.rttMs > 300)
    reasons.push(`Độ trễ cao (${pair.rttMs} ms). · High round-trip time (${pair.rttMs} ms).`);

  let downlinkKbps: number | null = null;
  if (receiver.consumers().length > 0) {
    const b0 = await bytesReceived(receiver);
    await new Promise((r) => setTimeout(r, 4000));
    downlinkKbps = Math.round((((await bytesReceived(receiver)) - b0) * 8) / 4000);
    if (downlinkKbps < 300)
      reasons.push(`Tín hiệu nhận về yếu (${downlinkKbps} kbit/s). · Weak downlink (${downlinkKbps} kbit/s).`);
  }

  // Without a click the devices are not tried again: their last result (if any) stands.
  if (opts.devices) {
    const found: string[] = [];
    lastDevices = { ...(await checkDevices(found, out)), reasons: found };
  }
  const { speaker, camera, microphone, tone } = lastDevices ?? {
    speaker: 'skipped',
    camera: 'skipped',
    microphone: 'skipped',
  };
  reasons.push(...(lastDevices?.reasons ?? []));

  const result: PreflightReport['result'] = sending && !pair ? 'fail' : reasons.length ? 'warn' : 'pass';
  const report: PreflightReport = {
    result,
    transport: pair?.path ?? 'none',
    rttMs: pair?.rttMs ?? null,
    downlinkKbps,
    camera,
    microphone,
    speaker,
    ...(tone ? { tone } : {}),
    reasons: reasons.map((r) => r.slice(0, 300)),
  };
  const verdict = { pass: 'ĐẠT · Pass', warn: 'CẢNH BÁO · Warning', fail: 'KHÔNG ĐẠT · Fail' }[result];
  out.replaceChildren(
    el('p', { className: `verdict ${result}`, text: verdict, attrs: { 'data-result': result } }),
    ...(opts.devices
      ? []
      : [
          el('p', {
            className: 'muted',
            text: 'Loa, camera và micro: bấm "Kiểm tra kỹ thuật". · Speaker, camera and microphone: press "Run the technical check".',
          }),
        ]),
    el('p', {
      text: `Kết nối · Connection: ${report.transport.toUpperCase()}${report.rttMs != null ? `, ${report.rttMs} ms` : ''}`,
    }),
    el('ul', {}, ...report.reasons.map((r) => el('li', { text: r }))),
  );
  return report;
}

/** Asks in `out` whether the tone was heard (it can be played again); unanswered after a minute. */
function askTone(out: HTMLElement): Promise<ToneAnswer> {
  return new Promise((resolve) => {
    const yes = el('button', { className: 'primary', attrs: { type: 'button', 'data-testid': 'tone-yes' } });
    setBi(yes, ['Có', 'Yes']);
    const no = el('button', { attrs: { type: 'button', 'data-testid': 'tone-no' } });
    setBi(no, ['Không', 'No']);
    const again = el('button', { attrs: { type: 'button', 'data-testid': 'tone-again' } });
    setBi(again, ['Phát lại', 'Play again']);
    const box = el(
      'div',
      { className: 'tone-question', attrs: { 'data-testid': 'tone-question' } },
      bi(['Bạn có nghe thấy âm thanh thử không?', 'Did you hear the tone?'], 'p'),
      el('div', { className: 'controls' }, yes, no, again),
    );
    out.append(box);
    const done = (a: ToneAnswer) => {
      clearTimeout(timer);
      box.remove();
      resolve(a);
    };
    const timer = setTimeout(() => done('unanswered'), TONE_WAIT_MS);
    yes.addEventListener('click', () => done('heard'));
    no.addEventListener('click', () => done('not-heard'));
    again.addEventListener('click', () => void playTestTone().catch(() => undefined));
  });
}

/** The speaker (a test tone and its question), the camera and the microphone; their problems go into `reasons`. */
async function checkDevices(
  reasons: string[],
  out: HTMLElement,
): Promise<Pick<PreflightReport, 'speaker' | 'camera' | 'microphone' | 'tone'>> {
  let speaker: PreflightReport['speaker'] = 'skipped';
  let tone: ToneAnswer | undefined;
  try {
    await playTestTone();
    speaker = 'ok';
    tone = await askTone(out);
    if (tone === 'not-heard')
      reasons.push(
        'Không nghe thấy âm thanh thử: kiểm tra loa, dây nối và âm lượng. · The tone was not heard: check the speakers, their cable and the volume.',
      );
  } catch {
    reasons.push('Không phát được âm thanh thử. · Could not play the test tone.');
  }
  let camera: PreflightReport['camera'] = 'skipped';
  let microphone: PreflightReport['microphone'] = 'skipped';
  try {
    const s = await navigator.mediaDevices.getUserMedia({ audio: true, video: true });
    camera = s.getVideoTracks().length ? 'ok' : 'missing';
    microphone = s.getAudioTracks().length ? 'ok' : 'missing';
    s.getTracks().forEach((t) => t.stop());
  } catch (err) {
    camera = microphone = mediaErrorKind(err);
    reasons.push(
      camera === 'denied'
        ? 'Trình duyệt chưa cho phép dùng camera/micro (cần khi được phát biểu). · Camera/microphone permission denied (needed to speak).'
        : 'Không tìm thấy camera/micro (cần khi được phát biểu). · No camera/microphone found (needed to speak).',
    );
  }
  return { speaker, camera, microphone, ...(tone ? { tone } : {}) };
}
