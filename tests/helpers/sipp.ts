// SIPp (Debian's sip-tester) driving the SIP gateway from inside a test's network
// namespace: one scenario per call, written here, run to its end. SIPp's exit status says
// whether every call went as the scenario expects; its message trace is kept to count what
// the gateway answered.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tiedSpawn } from '../../server/platform/tied-spawn';

export const SIPP = 'sipp';

/** An SDP offer as a room system sends it; `m` are its media lines with their attributes. */
export function sdpOffer(m: string[]): string {
  return ['v=0', 'o=room 53655765 2353687637 IN IP4 [local_ip]', 's=-', 'c=IN IP4 [local_ip]', 't=0 0', ...m, ''].join(
    '\n',
  );
}

export const PCMU_OFFER = sdpOffer(['m=audio [media_port] RTP/AVP 0', 'a=rtpmap:0 PCMU/8000']);

const inviteText = (cseq: number, sdp: string, auth: boolean) => `
      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:room@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: ${cseq} INVITE
      Contact: <sip:room@[local_ip]:[local_port]>
      Max-Forwards: 70
${auth ? '      [authentication]\n' : ''}      Content-Type: application/sdp
      Content-Length: [len]

${sdp
  .split('\n')
  .map((l) => `      ${l}`)
  .join('\n')}`;

const ack = (cseq: number) => `
      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      [last_From:]
      [last_To:]
      Call-ID: [call_id]
      CSeq: ${cseq} ACK
      Max-Forwards: 70
      Content-Length: 0
`;

/** The INVITE, and with `digest` the 401 challenge answered with SIPp's credentials (-au/-ap): the steps and the CSeq reached. */
function inviting(opts: { sdp: string; digest?: boolean }): { steps: string[]; cseq: number } {
  const steps = [`<send retrans="500"><![CDATA[${inviteText(1, opts.sdp, false)}]]></send>`];
  steps.push('<recv response="100" optional="true"/>');
  if (!opts.digest) return { steps, cseq: 1 };
  steps.push('<recv response="401" auth="true"/>', `<send><![CDATA[${ack(1)}]]></send>`);
  steps.push(`<send retrans="500"><![CDATA[${inviteText(2, opts.sdp, true)}]]></send>`);
  steps.push('<recv response="100" optional="true"/>');
  return { steps, cseq: 2 };
}

/**
 * A call that must end with `expect` (a final status); with `digest`, it answers the 401
 * challenge with SIPp's credentials (-au/-ap) first.
 */
export function refusalScenario(opts: { sdp: string; expect: number; digest?: boolean }): string {
  const { steps, cseq } = inviting(opts);
  steps.push(`<recv response="${opts.expect}"/>`, `<send><![CDATA[${ack(cseq)}]]></send>`);
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="refusal">\n${steps.join('\n')}\n</scenario>\n`;
}

/** A call that is answered 200 OK (after the digest challenge with `digest`), acknowledged, then hung up with BYE. */
export function acceptScenario(opts: { sdp: string; digest?: boolean }): string {
  const { steps, cseq } = inviting(opts);
  const inDialog = (method: string, n: number) => `
      ${method} [next_url] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
      From: <sip:room@[local_ip]:[local_port]>;tag=[pid]SIPpTag[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: ${n} ${method}
      Contact: <sip:room@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0
`;
  steps.push(
    '<recv response="200" rtd="true" rrs="true"/>',
    `<send><![CDATA[${inDialog('ACK', cseq)}]]></send>`,
    '<pause milliseconds="500"/>',
    `<send retrans="500"><![CDATA[${inDialog('BYE', cseq + 1)}]]></send>`,
    '<recv response="200" crlf="true"/>',
  );
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="accept">\n${steps.join('\n')}\n</scenario>\n`;
}

/**
 * A call that is answered 200 OK, acknowledged, and held until the gateway hangs it up:
 * SIPp answers its BYE. The offer may name `[field0]` of the injection file (`inject`).
 */
export function heldScenario(opts: { sdp: string }): string {
  const { steps } = inviting(opts);
  steps.push(
    '<recv response="200" rrs="true"/>',
    `<send><![CDATA[${ack(1).replace('ACK sip:[service]@[remote_ip]:[remote_port]', 'ACK [next_url]')}]]></send>`,
    '<recv request="BYE" timeout="120000"/>',
    `<send><![CDATA[
      SIP/2.0 200 OK
      [last_Via:]
      [last_From:]
      [last_To:]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0
]]></send>`,
  );
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>\n<scenario name="held">\n${steps.join('\n')}\n</scenario>\n`;
}

/** INVITEs sent as fast as SIPp goes, each waiting briefly for whatever comes back. */
export function floodScenario(sdp: string): string {
  return `<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="flood">
<send><![CDATA[${inviteText(1, sdp, false)}]]></send>
<recv response="100" optional="true"/>
<recv response="401" optional="true" next="ack"/>
<recv response="503" timeout="1500" ontimeout="done" next="ack"/>
<label id="ack"/>
<send><![CDATA[${ack(1)}]]></send>
<label id="done"/>
</scenario>
`;
}

export interface SippRun {
  code: number | null;
  /** Every message SIPp sent and received (-trace_msg). */
  messages: string;
  stderr: string;
}

/** Runs SIPp in the namespace against `target` (ip:port) with the scenario's text. */
export async function runSipp(
  netns: string,
  target: string,
  scenario: string,
  opts: {
    service: string;
    /** The namespace's address: SIPp's Via, Contact and SDP name it. */
    localIp: string;
    calls?: number;
    rate?: number;
    auth?: { user: string; password: string };
    /** SIPp's overall time limit (default 20 s). */
    timeoutSeconds?: number;
    /** Lines of an injection file, one per call (`[field0]`, `[field1]` … in the scenario). */
    inject?: string[];
  },
): Promise<SippRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sipp-'));
  try {
    const sf = path.join(dir, 'scenario.xml');
    fs.writeFileSync(sf, scenario);
    const trace = path.join(dir, 'messages.log');
    const calls = opts.calls ?? 1;
    const inf = path.join(dir, 'inject.csv');
    if (opts.inject) fs.writeFileSync(inf, ['SEQUENTIAL', ...opts.inject, ''].join('\n'));
    const args = [
      ...['netns', 'exec', netns, SIPP, target, '-sf', sf, '-s', opts.service, '-m', String(calls), '-i', opts.localIp],
      ...['-r', String(opts.rate ?? 10), '-l', String(calls), '-nostdin', '-timeout', `${opts.timeoutSeconds ?? 20}s`],
      '-timeout_error',
      ...['-recv_timeout', '5000', '-trace_msg', '-message_file', trace, '-p', '5070', '-mp', '16000'],
      ...(opts.auth ? ['-au', opts.auth.user, '-ap', opts.auth.password] : []),
      ...(opts.inject ? ['-inf', inf] : []),
    ];
    const child = tiedSpawn('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    const messages = fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8') : '';
    return { code, messages, stderr };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** How many responses of `status` the trace shows SIPp received. */
export function received(run: SippRun, status: number): number {
  return [...run.messages.matchAll(/message received \[\d+\] bytes :\s*SIP\/2\.0 (\d{3}) /g)].filter(
    (m) => Number(m[1]) === status,
  ).length;
}

/** The final answers the trace shows SIPp received, counted by status line ("480 No briefing is open ×12"). */
export function answersReceived(run: SippRun): string {
  const counts = new Map<string, number>();
  for (const m of run.messages.matchAll(/message received \[\d+\] bytes :\s*SIP\/2\.0 ([2-6]\d\d[^\r\n]*)/g)) {
    counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return [...counts].map(([line, n]) => `${line} ×${n}`).join(', ') || 'none';
}
