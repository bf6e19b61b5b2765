// `npm run demo`: the server as `npm start` runs it, with the reference briefing ready in
// its lobby: the report's title, the four resolutions and the conclusion, all 420 points
// invited. Prints the host console, the monitor and three points' links with QR codes in
// the terminal (a phone on the same network scans them). Run again, it reuses the demo
// briefing while it is still open.
import QRCode from 'qrcode';
import { REFERENCE_AGENDA, REFERENCE_TITLE } from '../server/data/reference-briefing';
import { launch, type Started } from '../server/launch';

const DEMO = { username: 'demo' };
const OPEN = ['scheduled', 'lobby', 'live'];

async function prepareDemo({ orchestrator, print }: Started): Promise<void> {
  const { sessions, links } = orchestrator.control;
  const all = await sessions.list({ limit: 10_000, offset: 0 });
  let id = all.items.find((s) => s.title === REFERENCE_TITLE && OPEN.includes(s.state))?.id;
  if (!id) {
    // The lobby opens 60 minutes before the start: starting in 30 minutes, it is open now.
    const now = Date.now();
    const created = await sessions.create(
      {
        title: REFERENCE_TITLE,
        description: 'Hội nghị trực tuyến quán triệt, triển khai thực hiện các nghị quyết của Tỉnh ủy (18/1/2022).',
        scheduledStart: new Date(now + 30 * 60_000).toISOString(),
        plannedEnd: new Date(now + 180 * 60_000).toISOString(),
        agenda: REFERENCE_AGENDA,
        invite: { mode: 'all' },
      },
      DEMO,
    );
    id = created.id;
    await sessions.act(id, 'schedule', DEMO);
    // The lobby job may open it first.
    if ((await sessions.require(id)).state === 'scheduled') await sessions.act(id, 'open-lobby', DEMO).catch(() => {});
  }
  const { session, links: all420 } = await links.all(id);
  const pick = ['district', 'commune', 'agency']
    .map((level) => all420.find((l) => l.level === level))
    .filter((l): l is NonNullable<typeof l> => l !== undefined);
  const base = orchestrator.publicUrl;
  const qr = (url: string) => QRCode.toString(url, { type: 'terminal', small: true });
  const out = [
    `Demo briefing: ${session.title}`,
    `  ${session.invitedPointIds.length} points invited, state ${session.state}, starts ${session.scheduledStart}`,
    ...session.agenda.map((a, i) => `  ${i + 1}. ${a.title}: ${a.speaker}`),
    '',
    `Host console (log in, open the session, "Bàn điều khiển trực tiếp", go live): ${base}/host`,
    await qr(`${base}/host`),
    `Connection monitor: ${base}/monitor`,
    await qr(`${base}/monitor`),
  ];
  for (const l of pick) out.push(`Point ${l.pointId} (${l.name}): ${l.url}`, await qr(l.url));
  out.push(`Every point's link: ${base}/api/v1/sessions/${id}/links/print (logged in)`, '');
  print(`${out.join('\n')}\n`);
}

void launch({ afterStart: prepareDemo });
