// Delegates' check-in and the points' rosters: the REST bodies of the phone's check-in,
// the desk's view and voiding of check-ins, and the rosters entered or imported. Imports
// only zod: the browser imports this file.
import { z } from 'zod';
import { ImportIssueSchema } from './api';

const Iso = z.string().max(40);

/** One delegate's check-in as the desk sees it; a voided one stays, marked, and is not counted. */
export const CheckinEntrySchema = z.object({
  id: z.string(),
  pointId: z.string(),
  name: z.string(),
  position: z.string(),
  rosterId: z.string().nullable(),
  at: Iso,
  voided: z.object({ by: z.string(), at: Iso, reason: z.string() }).nullable(),
});
export type CheckinEntry = z.infer<typeof CheckinEntrySchema>;

/** Why the desk voids a check-in (kept with it). */
export const CheckinVoidSchema = z.object({ reason: z.string().trim().min(1).max(200) }).strict();

export const CheckinTokenSchema = z.string().regex(/^[A-Za-z0-9_.-]{16,512}$/, 'not a check-in token');

export const RosterEntrySchema = z.object({
  id: z.string(),
  name: z.string(),
  /** Title or position (chức vụ). */
  position: z.string(),
  /** The delegate's unit or agency (đơn vị). */
  unit: z.string().default(''),
});
export type RosterEntry = z.infer<typeof RosterEntrySchema>;

/**
 * GET /api/v1/checkin/:token: what the phone shows, and a ticket to send back. The roster's
 * names are not handed out here (only how many); a typed name that matches one is taken
 * as that entry. The full roster is for the desk (GET /api/v1/rosters/:pointId).
 */
export const CheckinInfoSchema = z.object({
  ticket: z.string().meta({
    description: "signed, bound to this phone's device cookie; valid for CHECKIN_TICKET_SECONDS, for the POST",
  }),
  session: z.object({ title: z.string(), state: z.string() }),
  point: z.object({ id: z.string(), name: z.string() }),
  /** How many names the point's roster holds. */
  rosterSize: z.number().int(),
  /** This phone's check-in in this session, if it made one (voided included). */
  mine: CheckinEntrySchema.omit({ rosterId: true }).nullable(),
});
export type CheckinInfo = z.infer<typeof CheckinInfoSchema>;

const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`);

export const CheckinSubmitSchema = z
  .object({
    ticket: z.string().min(16).max(512),
    /** Matched against the point's roster (accents and case aside): a match is taken as that entry. */
    name: text(120),
    position: z.string().trim().max(160).optional(),
    /** Ignored (pages before the device cookie sent it): the phone is its cookie. */
    deviceId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{8,64}$/)
      .optional(),
  })
  .strict();
export type CheckinSubmit = z.input<typeof CheckinSubmitSchema>;

export const CheckinResultSchema = z.object({
  name: z.string(),
  position: z.string(),
  pointName: z.string(),
  at: Iso,
  /** True when this delegate had already checked in: counted once. */
  already: z.boolean(),
});
export type CheckinResult = z.infer<typeof CheckinResultSchema>;

/** A roster's most names: a point's room seats at most a few hundred. */
export const ROSTER_MAX_ENTRIES = 2000;

/** One delegate of a roster as entered or imported. */
export const RosterRowSchema = z
  .object({
    name: text(120),
    position: z.string().trim().max(160).default(''),
    unit: z.string().trim().max(160).default(''),
  })
  .strict();
export type RosterRow = z.output<typeof RosterRowSchema>;

/** PUT /api/v1/rosters/:pointId (JSON; CSV as for the import is also accepted). */
export const RosterInputSchema = z
  .object({
    entries: z.array(RosterRowSchema).max(ROSTER_MAX_ENTRIES),
  })
  .strict();

/** PATCH /api/v1/rosters/:pointId/entries/:entryId: the fields to change. */
export const RosterEditSchema = z
  .object({ name: text(120), position: z.string().trim().max(160), unit: z.string().trim().max(160) })
  .partial()
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'nothing to change');

export const RosterEntryIdSchema = z.string().regex(/^[0-9]{1,9}$/, 'not a roster entry id');

/** POST /api/v1/rosters/:pointId/import: the report (422 with the same body when rows are bad). */
export const RosterImportReportSchema = z.object({
  dryRun: z.boolean(),
  /** True only when nothing was wrong and it was not a dry run: the roster was replaced. */
  imported: z.boolean(),
  rows: z.number().int(),
  issues: z.array(ImportIssueSchema),
  /** The roster as it is now (unchanged unless imported). */
  entries: z.array(RosterEntrySchema),
});
export type RosterImportReport = z.infer<typeof RosterImportReportSchema>;
