// Field parsers the environment schema's sections share: numbers, ports, flags,
// addresses and ranges, each with the message a bad value stops start-up with.
import { z } from 'zod';

export const wholeNumber = () => z.coerce.number({ error: 'must be a whole number' }).int('must be a whole number');

export const port = (fallback: number) =>
  wholeNumber().min(0, 'must be 0-65535').max(65535, 'must be 0-65535').default(fallback);

export const boolFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** "degraded,poor": two numbers, worse upwards (or downwards for scores). */
export const thresholdPair = (degraded: number, poor: number, worse: 'up' | 'down' = 'up') =>
  z
    .string()
    .regex(/^\s*\d+(\.\d+)?\s*,\s*\d+(\.\d+)?\s*$/, 'must be two numbers "degraded,poor", e.g. "250,600"')
    .transform((v) => v.split(',').map(Number) as [number, number])
    .refine(
      ([d, p]) => (worse === 'up' ? p >= d : p <= d),
      `the poor threshold must be ${worse === 'up' ? 'at or above' : 'at or below'} the degraded one`,
    )
    .default([degraded, poor]);

export const ipv4OrV6 = z.string().refine((s) => z.ipv4().safeParse(s).success || z.ipv6().safeParse(s).success, {
  message: 'must be an IPv4 or IPv6 address',
});

/** "49160-49359": a first and last port, inclusive. */
export const portRange = (first: number, last: number) =>
  z
    .string()
    .regex(/^\s*\d{4,5}\s*-\s*\d{4,5}\s*$/, 'must be a port range "first-last", e.g. "49160-49359"')
    .transform((v) => v.split('-').map(Number) as [number, number])
    .refine(([a, b]) => a >= 1024 && b <= 65535 && b >= a, 'must be within 1024-65535, first at or below last')
    .default([first, last]);
