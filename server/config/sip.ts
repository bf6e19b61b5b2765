// The SIP section of the environment (SIP_*): room systems dialling in (server/sip/).
import { z } from 'zod';
import type { SipConfig } from '../sip/gateway';
import { ipv4OrV6, wholeNumber } from './fields';

/** `*`, or point codes separated by commas. */
const pointCodes = z
  .string()
  .transform((v) =>
    v.trim() === '*'
      ? ('*' as const)
      : v
          .split(',')
          .map((x) => x.trim())
          .filter(Boolean),
  )
  .refine((v) => v === '*' || v.every((c) => /^[A-Za-z0-9._-]{1,64}$/.test(c)), {
    message: 'must be * or point codes separated by commas',
  });

export const sipEnv = {
  /** Unset: no SIP gateway. */
  SIP_PORT: wholeNumber().min(0, 'must be 0-65535').max(65535, 'must be 0-65535').optional(),
  SIP_LISTEN_IP: z
    .string()
    .refine((s) => z.ipv4().safeParse(s).success, 'must be an IPv4 address (the gateway listens on UDP over IPv4)')
    .optional(),
  SIP_ANNOUNCED_IP: ipv4OrV6.optional(),
  SIP_INVITES_PER_MINUTE: wholeNumber().min(1).max(100_000).default(20),
  SIP_INVITE_BURST: wholeNumber().min(1).max(10_000).default(5),
  SIP_MAX_CALLS: wholeNumber().min(1).max(10_000).default(200),
  SIP_PLAIN_RTP: pointCodes.default([]),
  /** The agenda caption in the room systems' picture (server/sip/hall-caption.ts). */
  SIP_CAPTION: z.enum(['on', 'off'], { error: 'must be on or off' }).default('on'),
};

type SipEnv = z.output<z.ZodObject<typeof sipEnv>> & { RTC_LISTEN_IP: string };

/** Undefined when SIP_PORT is unset. */
export function sipConfig(e: SipEnv): SipConfig | undefined {
  if (e.SIP_PORT === undefined) return undefined;
  const listenIp = e.SIP_LISTEN_IP ?? (z.ipv4().safeParse(e.RTC_LISTEN_IP).success ? e.RTC_LISTEN_IP : '0.0.0.0');
  return {
    port: e.SIP_PORT,
    listenIp,
    // Unset: the media's announced address, filled at start (server/net/addresses.ts).
    announcedIp: e.SIP_ANNOUNCED_IP,
    invitesPerMinute: e.SIP_INVITES_PER_MINUTE,
    inviteBurst: e.SIP_INVITE_BURST,
    maxCalls: e.SIP_MAX_CALLS,
    plainRtpPoints: e.SIP_PLAIN_RTP,
    caption: e.SIP_CAPTION === 'on',
  };
}
