// The part of sdp-transform's parsed session that WHIP and SIP (server/sip/) read and write (the package ships
// no types). Field names are the library's grammar names.
declare module 'sdp-transform' {
  export interface SdpFingerprint {
    type: string;
    hash: string;
  }
  export interface SdpMedia {
    type: string;
    port: number;
    protocol: string;
    payloads?: string;
    connection?: { version: number; ip: string };
    rtp: { payload: number; codec: string; rate?: number; encoding?: number }[];
    fmtp: { payload: number; config: string }[];
    rtcpFb?: { payload: number | string; type: string; subtype?: string }[];
    ext?: { value: number; direction?: string; uri: string }[];
    mid?: string | number;
    direction?: 'sendrecv' | 'sendonly' | 'recvonly' | 'inactive';
    iceUfrag?: string;
    icePwd?: string;
    fingerprint?: SdpFingerprint;
    setup?: string;
    rtcpMux?: string;
    rtcpRsize?: string;
    ssrcs?: { id: number | string; attribute: string; value?: string }[];
    ssrcGroups?: { semantics: string; ssrcs: string }[];
    rids?: { id: string; direction: string; params?: string }[];
    simulcast?: { dir1: string; list1: string; dir2?: string; list2?: string };
    candidates?: {
      foundation: string;
      component: number;
      transport: string;
      priority: number;
      ip: string;
      port: number;
      type: string;
      tcptype?: string;
    }[];
    endOfCandidates?: string;
    iceOptions?: string;
    /** SDES keys (RFC 4568): `a=crypto:<id> <suite> inline:<key>[|lifetime][|MKI]`. */
    crypto?: { id: number; suite: string; config: string; sessionConfig?: string }[];
    rtcp?: { port: number; netType?: string; ipVer?: number; address?: string };
    bandwidth?: { type: string; limit: number | string }[];
  }
  export interface SdpSession {
    version?: number;
    origin?: {
      username: string;
      sessionId: string | number;
      sessionVersion: number;
      netType: string;
      ipVer: number;
      address: string;
    };
    name?: string;
    timing?: { start: number; stop: number };
    icelite?: string;
    iceUfrag?: string;
    icePwd?: string;
    fingerprint?: SdpFingerprint;
    setup?: string;
    groups?: { type: string; mids: string }[];
    msidSemantic?: { semantic: string; token: string };
    connection?: { version: number; ip: string };
    media: SdpMedia[];
  }
  export function parse(sdp: string): SdpSession;
  export function write(session: SdpSession): string;
  export function parseParams(config: string): Record<string, string | number>;
}
