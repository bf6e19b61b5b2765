// SIP messages (RFC 3261 section 7) over UDP: a strict parser that refuses rather than
// repairs, and the writer of the few responses and requests the gateway sends. One
// datagram is one message; anything the gateway does not need is kept as text and never
// interpreted. Limits are deliberately small: a room system's INVITE with its SDP fits in
// 4 KB, and nothing larger is read at all.
import { AppError } from '../errors';

/** Largest datagram read; the gateway never sends more either. */
export const MAX_MESSAGE_BYTES = 8192;
const MAX_HEADERS = 80;
const MAX_LINE = 1024;

/** Compact header forms (RFC 3261 7.3.3, RFC 3515, RFC 4028) to their full names, lower case. */
const COMPACT: Record<string, string> = {
  v: 'via',
  f: 'from',
  t: 'to',
  i: 'call-id',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
  o: 'event',
  r: 'refer-to',
  x: 'session-expires',
};

const TOKEN = /^[A-Za-z0-9.!%*_+`'~-]+$/;
const METHOD = /^[A-Z]{2,16}$/;

export interface SipRequest {
  kind: 'request';
  method: string;
  uri: string;
  /** Lower-case names; a header given several times (or with commas, for Via) keeps each value. */
  headers: Map<string, string[]>;
  body: string;
}

export interface SipResponse {
  kind: 'response';
  status: number;
  reason: string;
  headers: Map<string, string[]>;
  body: string;
}

export type SipMessage = SipRequest | SipResponse;

const malformed = (why: string) => new AppError('bad_request', `malformed SIP message: ${why}`);

/** Splits on commas outside quotes and angle brackets (Via and Contact may list several values on one line). */
function splitList(value: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  let angle = 0;
  for (let i = 0; i < value.length; i++) {
    const ch = value[i]!;
    if (ch === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && ch === '<') angle++;
    else if (!quoted && ch === '>') angle = Math.max(0, angle - 1);
    if (ch === ',' && !quoted && angle === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  out.push(cur.trim());
  return out.filter(Boolean);
}

/** Any control character but the tab. */
function hasControl(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if ((c < 32 && c !== 9) || c === 127) return true;
  }
  return false;
}

/** Throws AppError bad_request with what is wrong; never anything else. */
export function parseSipMessage(data: Buffer): SipMessage {
  if (data.length > MAX_MESSAGE_BYTES) throw malformed(`larger than ${MAX_MESSAGE_BYTES} bytes`);
  const text = data.toString('utf8');
  if (text.includes('\uFFFD')) throw malformed('not UTF-8');
  const split = text.indexOf('\r\n\r\n');
  if (split < 0) throw malformed('no empty line after the headers');
  const head = text.slice(0, split);
  const body = text.slice(split + 4);
  const lines = head.split('\r\n');
  const start = lines.shift()!;
  if (start.length > MAX_LINE) throw malformed('start line too long');

  const headers = new Map<string, string[]>();
  let count = 0;
  let last: string | undefined;
  for (const line of lines) {
    if (line.length > MAX_LINE) throw malformed('header line too long');
    if (hasControl(line)) throw malformed('control character in a header');
    if (/^[ \t]/.test(line)) {
      // Folded continuation (RFC 3261 7.3.1).
      if (!last) throw malformed('continuation line before any header');
      const values = headers.get(last)!;
      values[values.length - 1] = `${values[values.length - 1]} ${line.trim()}`;
      continue;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw malformed(`header without a name: ${JSON.stringify(line.slice(0, 40))}`);
    const rawName = line.slice(0, colon).trim();
    if (!TOKEN.test(rawName)) throw malformed(`bad header name ${JSON.stringify(rawName.slice(0, 40))}`);
    let name = rawName.toLowerCase();
    name = COMPACT[name] ?? name;
    if (++count > MAX_HEADERS) throw malformed(`more than ${MAX_HEADERS} headers`);
    const value = line.slice(colon + 1).trim();
    const values = headers.get(name) ?? [];
    if (name === 'via' || name === 'contact' || name === 'route' || name === 'record-route')
      values.push(...splitList(value));
    else values.push(value);
    headers.set(name, values);
    last = name;
  }

  const length = headers.get('content-length');
  if (length) {
    if (length.length !== 1 || !/^\d{1,5}$/.test(length[0]!)) throw malformed('bad Content-Length');
    const n = Number(length[0]);
    const bytes = Buffer.byteLength(body);
    if (n > bytes) throw malformed(`Content-Length ${n} but ${bytes} bytes of body`);
  }
  const bodyText = length ? Buffer.from(body).subarray(0, Number(length[0])).toString('utf8') : body;

  const response = /^SIP\/2\.0 ([1-6]\d\d) ([^\r\n]*)$/.exec(start);
  if (response) return { kind: 'response', status: Number(response[1]), reason: response[2]!, headers, body: bodyText };
  const request = /^([^ ]+) ([^ ]+) SIP\/2\.0$/.exec(start);
  if (!request) throw malformed('start line is neither a request nor a response of SIP/2.0');
  const [, method, uri] = request as unknown as [string, string, string];
  if (!METHOD.test(method)) throw malformed(`bad method ${JSON.stringify(method.slice(0, 20))}`);
  if (!/^sips?:[^\s<>"]+$/i.test(uri) || uri.length > 512) throw malformed('Request-URI is not a sip: URI');
  const msg: SipRequest = { kind: 'request', method, uri, headers, body: bodyText };
  for (const h of ['via', 'from', 'to', 'call-id', 'cseq']) {
    if (!headers.get(h)?.length) throw malformed(`no ${h} header`);
  }
  for (const h of ['from', 'to', 'call-id', 'cseq']) {
    if (headers.get(h)!.length !== 1) throw malformed(`${h} given more than once`);
  }
  const cseq = parseCSeq(one(msg, 'cseq'));
  if (cseq.method !== method && !(method === 'ACK' || method === 'CANCEL')) throw malformed('CSeq method differs');
  if (!/^SIP\/2\.0\/(UDP|TCP|TLS) [^\s;]+/i.test(headers.get('via')![0]!)) throw malformed('bad Via');
  if (!/^[!-~]{1,256}$/.test(one(msg, 'call-id'))) throw malformed('bad Call-ID');
  const mf = headers.get('max-forwards');
  if (mf && (mf.length !== 1 || !/^\d{1,3}$/.test(mf[0]!))) throw malformed('bad Max-Forwards');
  return msg;
}

export function one(msg: SipMessage, name: string): string {
  return msg.headers.get(name)?.[0] ?? '';
}

export function parseCSeq(value: string): { seq: number; method: string } {
  const m = /^(\d{1,10})\s+([A-Z]{2,16})$/.exec(value.trim());
  if (!m || Number(m[1]) > 2 ** 31 - 1) throw malformed('bad CSeq');
  return { seq: Number(m[1]), method: m[2]! };
}

/**
 * The client transaction a response answers, found by its top Via's branch in `byBranch`,
 * with its CSeq and Call-ID. Undefined: not one of ours (another part of the gateway may
 * own it); `cseq` undefined: ours but unreadable, to be ignored.
 */
export function responseTo<T>(
  res: SipResponse,
  byBranch: ReadonlyMap<string, T>,
): { tx: T; cseq: { seq: number; method: string } | undefined; callId: string } | undefined {
  const branch = headerParams(res.headers.get('via')?.[0] ?? '').get('branch');
  const tx = branch ? byBranch.get(branch) : undefined;
  if (tx === undefined) return undefined;
  try {
    return { tx, cseq: parseCSeq(one(res, 'cseq')), callId: one(res, 'call-id') };
  } catch {
    return { tx, cseq: undefined, callId: '' };
  }
}

/** `;name=value` parameters after the first `;` of a header value (lower-case names). */
export function headerParams(value: string): Map<string, string> {
  const out = new Map<string, string>();
  const semi = value.indexOf(';', value.lastIndexOf('>') + 1);
  if (semi < 0) return out;
  for (const part of value.slice(semi + 1).split(';')) {
    const [k, v] = part.split('=');
    if (k?.trim()) out.set(k.trim().toLowerCase(), (v ?? '').trim());
  }
  return out;
}

/** The user part of a sip: URI (`sip:user@host;params` or inside `<…>` of a name-addr). */
export function uriUser(uri: string): string | undefined {
  const inner = /<([^>]*)>/.exec(uri)?.[1] ?? uri;
  const m = /^sips?:([^@;?>\s]+)@/i.exec(inner.trim());
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/** The address in a Contact or From header: the URI between angle brackets, or the bare one. */
export function nameAddrUri(value: string): string {
  return (/<([^>]*)>/.exec(value)?.[1] ?? value.split(';')[0]!).trim();
}

/** Writes a response to `req`: its Via, From, Call-ID and CSeq copied; To with our tag. */
export function writeResponse(
  req: SipRequest,
  status: number,
  reason: string,
  opts: { toTag?: string; headers?: [string, string][]; body?: { type: string; text: string } } = {},
): Buffer {
  let to = one(req, 'to');
  if (opts.toTag && !headerParams(to).has('tag') && status > 100) to = `${to};tag=${opts.toTag}`;
  const lines = [
    `SIP/2.0 ${status} ${reason}`,
    ...(req.headers.get('via') ?? []).map((v) => `Via: ${v}`),
    `From: ${one(req, 'from')}`,
    `To: ${to}`,
    `Call-ID: ${one(req, 'call-id')}`,
    `CSeq: ${one(req, 'cseq')}`,
    ...(opts.headers ?? []).map(([k, v]) => `${k}: ${v}`),
    'Server: briefing-orchestrator',
  ];
  if (opts.body) lines.push(`Content-Type: ${opts.body.type}`);
  lines.push(`Content-Length: ${opts.body ? Buffer.byteLength(opts.body.text) : 0}`, '', opts.body?.text ?? '');
  return Buffer.from(lines.join('\r\n'));
}

/** A request the gateway sends inside a dialog it accepted (BYE). */
export function writeRequest(
  method: string,
  uri: string,
  headers: [string, string][],
  body?: { type: string; text: string },
): Buffer {
  const lines = [`${method} ${uri} SIP/2.0`, ...headers.map(([k, v]) => `${k}: ${v}`), 'Max-Forwards: 70'];
  if (body) lines.push(`Content-Type: ${body.type}`);
  lines.push(`Content-Length: ${body ? Buffer.byteLength(body.text) : 0}`, '', body?.text ?? '');
  return Buffer.from(lines.join('\r\n'));
}
