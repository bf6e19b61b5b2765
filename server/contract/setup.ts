// The first run: while no admin account exists, the server prints a one-time setup link
// (/setup/<token>); its page creates the first admin. No account ever starts with a
// known password.
import { z } from 'zod';
import { PasswordSchema, UsernameSchema } from './api';

export const SetupStatusSchema = z.object({
  /** No admin exists yet: the login page tells the operator where the setup link is. */
  needed: z.boolean(),
});
export type SetupStatus = z.infer<typeof SetupStatusSchema>;

export const SetupRequestSchema = z
  .object({
    token: z.string().regex(/^[A-Za-z0-9_-]{20,100}$/, 'not a setup token'),
    username: UsernameSchema,
    displayName: z.string().trim().max(120).optional(),
    password: PasswordSchema,
  })
  .strict()
  .meta({ id: 'SetupRequest' });
export type SetupRequest = z.infer<typeof SetupRequestSchema>;

export const SetupResultSchema = z.object({ username: z.string(), role: z.literal('admin') });
