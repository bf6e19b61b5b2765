// Where a point page says it is (`<html data-point>`, client/src/point/phase.ts): the
// phase follows the socket, the server's view and the media transport, and never says
// `receiving` while the page has no connected transport or has not shown the view since
// its socket came back.
import { phaseAfter, PointPhase, type PhaseEvent } from '../../client/src/point/phase';

function page() {
  const socket = { connected: false };
  const root = { dataset: {} as Record<string, string | undefined> };
  const phase = new PointPhase(root, socket);
  const seen: (string | undefined)[] = [];
  const on = (...events: PhaseEvent[]) => {
    for (const e of events) {
      phase.on(e);
      seen.push(root.dataset.point);
    }
  };
  return { socket, phase, on, seen, now: () => root.dataset.point };
}

test('a first join: starting, connected once the view is shown, receiving once the media is', () => {
  const p = page();
  p.on('wired');
  p.socket.connected = true;
  p.on('media-down', 'view-shown', 'media-down', 'media-connected');
  expect(p.seen).toEqual(['starting', 'starting', 'connected', 'connected', 'receiving']);
});

test('a rebuild of the media, or the media closed with the briefing, says connected', () => {
  const p = page();
  p.socket.connected = true;
  p.on('wired', 'view-shown', 'media-connected', 'media-down');
  expect(p.now()).toBe('connected');
  // A rebuild's transport connects again; a briefing that ended has none.
  p.on('media-connected');
  expect(p.now()).toBe('receiving');
});

test('a socket lost: starting; a transport connecting before the view is shown again says nothing', () => {
  const p = page();
  p.socket.connected = true;
  p.on('wired', 'view-shown', 'media-connected');
  p.socket.connected = false;
  p.on('socket-lost', 'media-down', 'media-connected');
  expect(p.seen.slice(-3)).toEqual(['starting', 'starting', 'starting']);
  // Back before view:get answers: the old view does not count.
  p.socket.connected = true;
  p.on('media-connected', 'media-down');
  expect(p.now()).toBe('starting');
  p.on('view-shown', 'media-connected');
  expect(p.now()).toBe('receiving');
});

test('refused (turned away or kicked) is for good', () => {
  const p = page();
  p.socket.connected = true;
  p.on('wired', 'view-shown', 'media-connected', 'refused');
  expect(p.now()).toBe('refused');
  p.on('socket-lost', 'wired', 'view-shown', 'media-connected', 'media-down');
  expect(p.seen.slice(-5)).toEqual(['refused', 'refused', 'refused', 'refused', 'refused']);
});

test('the rules: receiving and connected need the socket and the view', () => {
  const all = [
    { socketConnected: false, viewShown: false },
    { socketConnected: false, viewShown: true },
    { socketConnected: true, viewShown: false },
    { socketConnected: true, viewShown: true },
  ];
  expect(all.map((c) => phaseAfter('media-connected', c))).toEqual([undefined, undefined, undefined, 'receiving']);
  expect(all.map((c) => phaseAfter('media-down', c))).toEqual([undefined, undefined, undefined, 'connected']);
  expect(all.map((c) => phaseAfter('view-shown', c))).toEqual([undefined, undefined, 'connected', 'connected']);
  for (const c of all) {
    expect(phaseAfter('wired', c)).toBe('starting');
    expect(phaseAfter('socket-lost', c)).toBe('starting');
    expect(phaseAfter('refused', c)).toBe('refused');
  }
});
