// A WebRTC transport's link from Node to mediasoup with werift, up to the SRTP keys: ICE
// (controlling, against mediasoup's ICE-lite, loopback only: no other interface is
// gathered; the machines this runs on allow loopback traffic only), then DTLS as the
// client. Shared by the load generator's receivers and the tests' RTP peers, which read
// and write the RTP themselves.
import {
  Candidate,
  Connection,
  DtlsClient,
  ProtectionProfileAeadAes128Gcm,
  ProtectionProfileAes128CmHmacSha1_80,
  RTCDtlsTransport,
  SrtcpSession,
  SrtpSession,
  keyLength,
  saltLength,
  type RTCCertificate,
} from 'werift';

export interface IceRemote {
  iceParameters: { usernameFragment: string; password: string };
  iceCandidates: {
    foundation: string;
    priority: number;
    ip?: string;
    address?: string;
    protocol: string;
    port: number;
  }[];
}

/**
 * What DTLS needs of an ICE link: send a packet on the selected pair, hear each packet
 * arriving on it. werift's ICE `Connection` (UDP) has this shape, and so has
 * ./ice-tcp.ts's link.
 */
export interface PacketLink {
  send(data: Buffer): Promise<unknown>;
  onData: { subscribe(fn: (pkt: Buffer) => void): unknown };
  close(): Promise<unknown>;
}

/** Rejects with "<what> timed out" after `ms`. */
export function withTimeout<T>(p: Promise<T>, what: string, ms: number): Promise<T> {
  return Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what} timed out`)), ms).unref()),
  ]);
}

/**
 * Connects ICE to the transport's UDP candidates. `created` gets the connection before it
 * connects, so that its owner can close it while it is still connecting.
 */
export async function iceToMediasoup(
  remote: IceRemote,
  timeoutMs: number,
  created: (ice: Connection) => void = () => undefined,
): Promise<Connection> {
  const ice = new Connection(true, {
    useIpv4: false,
    useIpv6: false,
    additionalHostAddresses: ['127.0.0.1'],
    interfaceAddresses: { udp4: '127.0.0.1' },
  });
  created(ice);
  ice.setRemoteParams({
    iceLite: true,
    usernameFragment: remote.iceParameters.usernameFragment,
    password: remote.iceParameters.password,
  });
  await ice.gatherCandidates();
  for (const c of remote.iceCandidates) {
    if (c.protocol !== 'udp') continue;
    await ice.addRemoteCandidate(
      new Candidate(c.foundation, 1, 'udp', c.priority, c.ip ?? c.address ?? '', c.port, 'host'),
    );
  }
  await ice.addRemoteCandidate(undefined);
  await withTimeout(ice.connect(), 'ICE', timeoutMs);
  return ice;
}

let certificate: Promise<RTCCertificate> | undefined;
/** One self-signed certificate for all links of this process (generating is slow). */
export function linkCertificate(): Promise<RTCCertificate> {
  certificate ??= RTCDtlsTransport.SetupCertificate();
  return certificate;
}

/** Our DTLS parameters for rtc:connectTransport (we are the DTLS client). */
export async function clientDtlsParameters(): Promise<{
  role: 'client';
  fingerprints: { algorithm: string; value: string }[];
}> {
  const cert = await linkCertificate();
  return {
    role: 'client',
    fingerprints: cert.getFingerprints().map((f) => ({ algorithm: f.algorithm, value: f.value })),
  };
}

export type SrtpProfileName = 'AEAD_AES_128_GCM' | 'AES_CM_128_HMAC_SHA1_80';

/**
 * DTLS (client) over a connected ICE link (UDP or TCP); resolves with the SRTP session once the keys
 * are there. DTLS records reach werift through a shim; what else arrives is the caller's
 * (`onOther`), unless it reads the socket itself. `created` gets the client before the
 * handshake, so that its owner can close it meanwhile.
 */
export async function dtlsOverIce(
  ice: PacketLink,
  timeoutMs: number,
  hooks: { created?: (dtls: DtlsClient) => void; onOther?: (buf: Buffer) => void } = {},
): Promise<{ dtls: DtlsClient; srtp: SrtpSession; srtcp: SrtcpSession; profile: SrtpProfileName }> {
  const cert = await linkCertificate();
  const transport = {
    type: 'ice',
    address: {} as never,
    closed: false,
    onData: (_buf: Buffer): void => undefined,
    send: (data: Buffer) => ice.send(data),
    close: async () => undefined,
  };
  ice.onData.subscribe((buf: Buffer) => {
    const b = buf[0]!;
    if (b >= 20 && b <= 63) transport.onData(buf);
    else hooks.onOther?.(buf);
  });
  const dtls = new DtlsClient({
    cert: cert.certPem,
    key: cert.privateKey,
    signatureHash: cert.signatureHash,
    transport: transport as never,
    srtpProfiles: [ProtectionProfileAeadAes128Gcm, ProtectionProfileAes128CmHmacSha1_80],
    extendedMasterSecret: true,
  });
  hooks.created?.(dtls);
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      dtls.onConnect.once(() => resolve());
      dtls.onError.once((e: unknown) => reject(e instanceof Error ? e : new Error(String(e))));
      dtls.connect().catch(reject);
    }),
    'DTLS',
    timeoutMs,
  );
  const profile = dtls.srtp.srtpProfile;
  if (!profile) throw new Error('no SRTP profile negotiated');
  const k = dtls.extractSessionKeys(keyLength(profile), saltLength(profile));
  const keys = {
    localMasterKey: k.localKey,
    localMasterSalt: k.localSalt,
    remoteMasterKey: k.remoteKey,
    remoteMasterSalt: k.remoteSalt,
  };
  const srtp = new SrtpSession({ profile, keys });
  const srtcp = new SrtcpSession({ profile, keys });
  return {
    dtls,
    srtp,
    srtcp,
    profile: profile === ProtectionProfileAeadAes128Gcm ? 'AEAD_AES_128_GCM' : 'AES_CM_128_HMAC_SHA1_80',
  };
}

/** Closes a link's DTLS and ICE, whatever state they reached. */
export async function closeLink(dtls: DtlsClient | undefined, ice: PacketLink | undefined): Promise<void> {
  try {
    dtls?.close();
  } catch {
    // already gone
  }
  await ice?.close().catch(() => undefined);
}

export type Caps = {
  codecs: {
    mimeType: string;
    kind: string;
    preferredPayloadType?: number;
    parameters?: Record<string, unknown>;
    rtcpFeedback?: unknown[];
  }[];
  headerExtensions?: unknown[];
};

/** The header extensions a browser negotiates for receiving (besides those it only sends). */
export const BROWSER_HEADER_EXTENSIONS = [
  'urn:ietf:params:rtp-hdrext:sdes:mid',
  'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time',
  'http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01',
];

/**
 * What a browser would offer to receive: Opus, VP8 with NACK, PLI and FIR, transport-cc
 * and the header extensions above. `rtx`: also video/rtx for VP8 (apt = VP8's payload
 * type), as Chromium offers it, so that the SFU resends NACKed packets on an RTX stream
 * of their own (RFC 4588). `silent`: without header extensions and transport-cc (and
 * without RTX), for a receiver that sends no RTCP back.
 */
export function receiveCapabilities(router: Caps, silent = false, rtx = false): Caps {
  const media = router.codecs.filter(
    (c) => c.mimeType.toLowerCase() === 'audio/opus' || c.mimeType.toLowerCase() === 'video/vp8',
  );
  const vp8Types = new Set(
    media.filter((c) => c.mimeType.toLowerCase() === 'video/vp8').map((c) => c.preferredPayloadType),
  );
  const rtxCodecs =
    rtx && !silent
      ? router.codecs
          .filter((c) => c.mimeType.toLowerCase() === 'video/rtx' && vp8Types.has(c.parameters?.apt as number))
          .map((c) => ({ ...c, rtcpFeedback: [] }))
      : [];
  return {
    codecs: [
      ...media.map((c) => ({
        ...c,
        rtcpFeedback: [
          ...(c.kind === 'video'
            ? [{ type: 'nack' }, { type: 'nack', parameter: 'pli' }, { type: 'ccm', parameter: 'fir' }]
            : []),
          ...(silent ? [] : [{ type: 'transport-cc' }]),
        ],
      })),
      ...rtxCodecs,
    ],
    headerExtensions: silent
      ? []
      : (router.headerExtensions ?? []).filter((h) => BROWSER_HEADER_EXTENSIONS.includes((h as { uri: string }).uri)),
  };
}
