// The SDP side of WHIP: an encoder's offer read into what the media engine produces with
// (DTLS parameters, one set of RTP parameters per audio or video section), and the answer
// written from the transport the engine opened. The engine is ICE-lite and answers every
// section it takes on one bundled transport; sections it cannot take are refused with
// port 0, as RFC 8829 asks. Parsing and writing use sdp-transform (see package.json).
import { randomInt } from 'node:crypto';
import type { types as ms } from 'mediasoup';
import * as sdpTransform from 'sdp-transform';
import type { SdpMedia, SdpSession } from 'sdp-transform';
import type { MediaKind, TransportParams } from '../../sfu';
import { badRequest } from '../errors';

/** An offer larger than this is not an encoder's (Chromium's with simulcast is ~6 kB). */
export const MAX_OFFER_BYTES = 32 * 1024;

const FINGERPRINT_ALGORITHMS = new Set(['sha-1', 'sha-224', 'sha-256', 'sha-384', 'sha-512']);

export interface OfferedStream {
  /** Its m-section's index in the offer. */
  index: number;
  kind: MediaKind;
  rtpParameters: ms.RtpParameters;
  /** Simulcast layers by rid, lowest first, when the section sends several. */
  rids: string[];
}

export interface WhipOffer {
  session: SdpSession;
  /** The encoder's DTLS parameters; `role` is the encoder's. */
  dtlsParameters: ms.DtlsParameters;
  /** One audio and one video stream at most, in offer order. */
  streams: OfferedStream[];
}

/**
 * Reads an encoder's offer against the router's capabilities. Throws `bad_request` with a
 * reason the encoder's operator can act on (no supported codec, no rtcp-mux, ...).
 */
export function readWhipOffer(sdp: string, caps: ms.RtpCapabilities): WhipOffer {
  if (!sdp.startsWith('v=0')) throw badRequest('the body is not an SDP offer (it must start with v=0)');
  let session: SdpSession;
  try {
    session = sdpTransform.parse(sdp);
  } catch (err) {
    throw badRequest(`the SDP offer cannot be parsed: ${(err as Error).message}`);
  }
  if (!Array.isArray(session.media) || session.media.length === 0) throw badRequest('the offer has no media section');
  if (session.media.length > 8) throw badRequest('the offer has too many media sections');
  const streams: OfferedStream[] = [];
  let fingerprint = session.fingerprint;
  let setup = session.setup;
  session.media.forEach((m, index) => {
    if (m.type !== 'audio' && m.type !== 'video') return;
    if (m.port === 0 || m.direction === 'recvonly' || m.direction === 'inactive') return;
    if (streams.some((s) => s.kind === m.type)) throw badRequest(`the offer sends more than one ${m.type} section`);
    if (!/SAVPF$/.test(m.protocol))
      throw badRequest(`section ${index}: ${m.protocol} is not WebRTC (UDP/TLS/RTP/SAVPF)`);
    if (m.mid === undefined || String(m.mid) === '') throw badRequest(`section ${index}: no a=mid`);
    if (!m.rtcpMux) throw badRequest(`section ${index}: RTCP must be multiplexed (a=rtcp-mux)`);
    if (!(m.iceUfrag ?? session.iceUfrag) || !(m.icePwd ?? session.icePwd)) {
      throw badRequest(`section ${index}: no ICE credentials`);
    }
    fingerprint = m.fingerprint ?? fingerprint;
    setup = m.setup ?? setup;
    streams.push({ index, kind: m.type, rtpParameters: rtpParametersOf(m, index, caps), rids: ridsOf(m) });
  });
  if (streams.length === 0) throw badRequest('the offer sends neither audio nor video');
  if (!fingerprint || !FINGERPRINT_ALGORITHMS.has(fingerprint.type.toLowerCase())) {
    throw badRequest('the offer has no usable DTLS fingerprint');
  }
  // The encoder says which DTLS side it takes; actpass (the usual) makes it the client.
  const role: ms.DtlsRole = setup === 'passive' ? 'server' : 'client';
  return {
    session,
    dtlsParameters: { role, fingerprints: [{ algorithm: fingerprint.type.toLowerCase(), value: fingerprint.hash }] },
    streams,
  };
}

/** The answer: every taken section received on the one transport; the others refused. */
export function writeWhipAnswer(offer: WhipOffer, transport: TransportParams): string {
  const fingerprint = transport.dtlsParameters.fingerprints.find((f) => f.algorithm === 'sha-256');
  if (!fingerprint) throw new Error('the transport has no sha-256 fingerprint');
  const taken = new Map(offer.streams.map((s) => [s.index, s]));
  const mids = offer.streams.map((s) => String(s.rtpParameters.mid));
  const media: SdpMedia[] = offer.session.media.map((m, index) => {
    const stream = taken.get(index);
    if (!stream) return refused(m);
    return answerSection(m, stream, transport);
  });
  const answer: SdpSession = {
    version: 0,
    origin: {
      username: '-',
      sessionId: randomInt(1, 2 ** 47),
      sessionVersion: 1,
      netType: 'IN',
      ipVer: 4,
      address: '127.0.0.1',
    },
    name: '-',
    timing: { start: 0, stop: 0 },
    icelite: 'ice-lite',
    fingerprint: { type: fingerprint.algorithm, hash: fingerprint.value },
    setup: offer.dtlsParameters.role === 'server' ? 'active' : 'passive',
    groups: [{ type: 'BUNDLE', mids: mids.join(' ') }],
    msidSemantic: { semantic: 'WMS', token: '*' },
    media,
  };
  return sdpTransform.write(answer);
}

function rtpParametersOf(m: SdpMedia, index: number, caps: ms.RtpCapabilities): ms.RtpParameters {
  const kind = m.type as MediaKind;
  const chosen = chooseCodec(m, kind, caps);
  if (!chosen) {
    const offered = [...new Set(m.rtp.map((r) => r.codec))].join(', ') || 'none';
    const wanted = kind === 'audio' ? 'Opus' : 'VP8 or H.264 (packetization-mode 1, constrained baseline)';
    throw badRequest(`section ${index}: no ${kind} codec the server takes (offered: ${offered}; wanted: ${wanted})`);
  }
  const { pt, cap } = chosen;
  const rtcpFeedback = feedbackOf(m, pt, cap);
  const codecs: ms.RtpCodecParameters[] = [
    {
      mimeType: cap.mimeType,
      payloadType: pt,
      clockRate: cap.clockRate,
      ...(cap.channels ? { channels: cap.channels } : {}),
      parameters: fmtpOf(m, pt),
      rtcpFeedback,
    },
  ];
  const rtxPt = kind === 'video' ? rtxPayloadOf(m, pt) : undefined;
  if (rtxPt !== undefined) {
    codecs.push({ mimeType: 'video/rtx', payloadType: rtxPt, clockRate: cap.clockRate, parameters: { apt: pt } });
  }
  const headerExtensions = (m.ext ?? [])
    .filter((e) =>
      caps.headerExtensions?.some(
        (h) => h.uri === e.uri && h.kind === kind && (h.direction === 'sendrecv' || h.direction === 'recvonly'),
      ),
    )
    .map((e) => ({ uri: e.uri, id: e.value }));
  const rids = ridsOf(m);
  let encodings: ms.RtpEncodingParameters[];
  if (rids.length > 0) {
    if (!headerExtensions.some((h) => h.uri === 'urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id')) {
      throw badRequest(`section ${index}: simulcast by rid needs the rtp-stream-id header extension`);
    }
    encodings = rids.map((rid) => ({ rid }));
  } else {
    encodings = [ssrcEncoding(m, index, rtxPt !== undefined)];
  }
  const cname = m.ssrcs?.find((s) => s.attribute === 'cname')?.value;
  return {
    mid: String(m.mid),
    codecs,
    headerExtensions,
    encodings,
    rtcp: { ...(cname ? { cname } : {}), reducedSize: !!m.rtcpRsize },
  };
}

/** Opus for audio; VP8 first for video, then H.264 the routers take (packetization-mode 1, same profile). */
function chooseCodec(
  m: SdpMedia,
  kind: MediaKind,
  caps: ms.RtpCapabilities,
): { pt: number; cap: ms.RtpCodecCapability } | undefined {
  const wanted = (caps.codecs ?? []).filter((c) => c.kind === kind && !/\/rtx$/i.test(c.mimeType));
  for (const cap of wanted) {
    const name = cap.mimeType.split('/')[1]!.toLowerCase();
    for (const r of m.rtp) {
      if (r.codec.toLowerCase() !== name || r.rate !== cap.clockRate) continue;
      if (kind === 'audio' && (r.encoding ?? 1) !== (cap.channels ?? 1)) continue;
      if (name === 'h264' && !sameH264(fmtpOf(m, r.payload), cap.parameters ?? {})) continue;
      return { pt: r.payload, cap };
    }
  }
  return undefined;
}

/** packetization-mode and the profile (the first two bytes of profile-level-id) must match; the level may differ. */
function sameH264(offered: Record<string, string | number>, cap: Record<string, unknown>): boolean {
  if (Number(offered['packetization-mode'] ?? 0) !== Number(cap['packetization-mode'] ?? 0)) return false;
  const profile = (v: unknown) =>
    String(v ?? '42001f')
      .toLowerCase()
      .slice(0, 4);
  const a = profile(offered['profile-level-id']);
  const b = profile(cap['profile-level-id']);
  // Constrained baseline is 42e0 or 42c0 (constraint_set1 makes it so either way).
  const constrainedBaseline = (p: string) => p === '42e0' || p === '42c0';
  return a === b || (constrainedBaseline(a) && constrainedBaseline(b));
}

function fmtpOf(m: SdpMedia, pt: number): Record<string, string | number> {
  const line = m.fmtp.find((f) => f.payload === pt);
  if (!line) return {};
  return sdpTransform.parseParams(line.config) as Record<string, string | number>;
}

function rtxPayloadOf(m: SdpMedia, pt: number): number | undefined {
  for (const r of m.rtp) {
    if (r.codec.toLowerCase() !== 'rtx') continue;
    if (Number(fmtpOf(m, r.payload).apt) === pt) return r.payload;
  }
  return undefined;
}

/** The offer's feedback for the codec, kept where the router supports it too. */
function feedbackOf(m: SdpMedia, pt: number, cap: ms.RtpCodecCapability): ms.RtcpFeedback[] {
  return (m.rtcpFb ?? [])
    .filter((f) => String(f.payload) === String(pt) || f.payload === '*')
    .filter((f) => (cap.rtcpFeedback ?? []).some((c) => c.type === f.type && (c.parameter ?? '') === (f.subtype ?? '')))
    .map((f) => ({ type: f.type, ...(f.subtype ? { parameter: f.subtype } : {}) }));
}

/** The rids the section sends simulcast with, in the order of a=simulcast (lowest layer first). */
function ridsOf(m: SdpMedia): string[] {
  const sim = m.simulcast;
  if (!sim) return [];
  const list = sim.dir1 === 'send' ? sim.list1 : sim.dir2 === 'send' ? sim.list2 : undefined;
  if (!list) return [];
  const rids = list.split(';').map((alt) => alt.split(',')[0]!.replace(/^~/, ''));
  if (rids.length > 3) throw badRequest('at most three simulcast layers');
  for (const rid of rids) {
    if (!/^[A-Za-z0-9_-]{1,16}$/.test(rid)) throw badRequest(`bad rid ${JSON.stringify(rid.slice(0, 20))}`);
  }
  return rids;
}

/** The one RTP stream of a section without simulcast: its SSRC, and its retransmission SSRC. */
function ssrcEncoding(m: SdpMedia, index: number, withRtx: boolean): ms.RtpEncodingParameters {
  const fid = m.ssrcGroups
    ?.find((g) => g.semantics === 'FID')
    ?.ssrcs.split(' ')
    .map(Number);
  const first = fid?.[0] ?? Number(m.ssrcs?.[0]?.id);
  if (!Number.isInteger(first) || first <= 0 || first > 0xffffffff) {
    throw badRequest(`section ${index}: no a=ssrc (or simulcast rids) to receive by`);
  }
  const rtx = fid?.[1];
  return { ssrc: first, ...(withRtx && rtx !== undefined && Number.isInteger(rtx) ? { rtx: { ssrc: rtx } } : {}) };
}

function answerSection(m: SdpMedia, stream: OfferedStream, transport: TransportParams): SdpMedia {
  const { rtpParameters, rids } = stream;
  const codecs = rtpParameters.codecs;
  const fmtp = codecs
    .map((c) => ({ payload: c.payloadType, config: fmtpLine(c.parameters ?? {}) }))
    .filter((f) => f.config !== '');
  const answer: SdpMedia = {
    type: m.type,
    port: 7,
    protocol: 'UDP/TLS/RTP/SAVPF',
    payloads: codecs.map((c) => c.payloadType).join(' '),
    connection: { version: 4, ip: '127.0.0.1' },
    rtp: codecs.map((c) => ({
      payload: c.payloadType,
      codec: c.mimeType.split('/')[1]!,
      rate: c.clockRate,
      ...(c.channels && c.channels > 1 ? { encoding: c.channels } : {}),
    })),
    fmtp,
    rtcpFb: codecs.flatMap((c) =>
      (c.rtcpFeedback ?? []).map((f) => ({
        payload: c.payloadType,
        type: f.type,
        ...(f.parameter ? { subtype: f.parameter } : {}),
      })),
    ),
    ext: (rtpParameters.headerExtensions ?? []).map((h) => ({ value: h.id, uri: h.uri })),
    mid: String(rtpParameters.mid),
    direction: 'recvonly',
    iceUfrag: transport.iceParameters.usernameFragment,
    icePwd: transport.iceParameters.password,
    candidates: transport.iceCandidates.map((c) => ({
      foundation: c.foundation,
      component: 1,
      transport: c.protocol,
      priority: c.priority,
      ip: c.ip,
      port: c.port,
      type: c.type,
      ...(c.protocol === 'tcp' ? { tcptype: 'passive' } : {}),
    })),
    endOfCandidates: 'end-of-candidates',
    rtcpMux: 'rtcp-mux',
    ...(rtpParameters.rtcp?.reducedSize ? { rtcpRsize: 'rtcp-rsize' } : {}),
  };
  if (rids.length > 0) {
    answer.rids = rids.map((id) => ({ id, direction: 'recv' }));
    answer.simulcast = { dir1: 'recv', list1: rids.join(';') };
  }
  return answer;
}

function refused(m: SdpMedia): SdpMedia {
  const first = m.rtp[0];
  return {
    type: m.type,
    port: 0,
    protocol: m.protocol,
    payloads: first ? String(first.payload) : (m.payloads?.split(' ')[0] ?? '0'),
    rtp: first ? [{ payload: first.payload, codec: first.codec, rate: first.rate }] : [],
    fmtp: [],
    ...(m.mid !== undefined ? { mid: String(m.mid) } : {}),
    direction: 'inactive',
  };
}

function fmtpLine(params: Record<string, unknown>): string {
  return Object.entries(params)
    .filter(([k]) => k !== 'x-google-start-bitrate')
    .map(([k, v]) => `${k}=${String(v)}`)
    .join(';');
}
