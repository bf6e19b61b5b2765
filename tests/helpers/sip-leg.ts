// A leg of a SIP call as the SFU describes it (sfu/sip-media.ts), for tests of the SDP the
// gateway writes: our address, the port pair and our SRTP key.
import type { SipLegInfo } from '../../sfu';

export function sipLeg(port: number, payloadType: number, keyBase64: string): SipLegInfo {
  return {
    legId: `l${port}`,
    payloadType,
    ip: '10.0.0.1',
    port,
    rtcpPort: port + 1,
    srtp: { suite: 'AES_CM_128_HMAC_SHA1_80', keyBase64 },
  };
}
