// The HTTP contract of /api/v1: request and response schemas shared by the server (which
// validates with them and generates /api/openapi.json from them) and the browser (which
// builds its forms and reads its answers with them). Imports only zod: the layering check
// keeps it that way. `.meta({ id })` names a schema in the OpenAPI components.
import { z } from 'zod';
import { SessionStateSchema } from './session-state';

// ── common ──────────────────────────────────────────────────────────────────────────────

/** Date-times travel as ISO 8601 strings with an offset (`2026-11-28T08:00:00+07:00` or `…Z`). */
export const DateTimeSchema = z.iso.datetime({ offset: true }).meta({ example: '2026-12-01T08:00:00+07:00' });

export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
});
export type PageQuery = z.infer<typeof PageQuerySchema>;

/** Every list answers a page of items and the total number matching the filter. */
export function pageOf<T extends z.ZodType>(item: T) {
  return z.object({ items: z.array(item), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
}
export interface Page<T> {
  items: T[];
  total: number;
  limit: number;
  offset: number;
}

export const ProblemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string(),
    detail: z.string(),
    instance: z.string(),
    errors: z.unknown().optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details with a stable `code`' });

/** A text field from a form: trimmed, never blank. */
const text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max, `at most ${max} characters`);

// ── accounts ────────────────────────────────────────────────────────────────────────────

export const ROLES = ['admin', 'host', 'technician'] as const;
export const RoleSchema = z.enum(ROLES).meta({ id: 'Role' });
export type Role = z.infer<typeof RoleSchema>;

export const UsernameSchema = z
  .string()
  .trim()
  .min(3, 'at least 3 characters')
  .max(64, 'at most 64 characters')
  .regex(/^[A-Za-z0-9._-]+$/, 'letters, digits, dot, dash and underscore only');
export const PasswordSchema = z.string().min(12, 'at least 12 characters').max(256, 'at most 256 characters');

export const AccountSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    displayName: z.string(),
    role: RoleSchema,
    disabled: z.boolean(),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
  })
  .meta({ id: 'Account' });
export type Account = z.infer<typeof AccountSchema>;

export const AccountCreateSchema = z
  .object({
    username: UsernameSchema,
    displayName: text(120).optional(),
    role: RoleSchema,
    password: PasswordSchema,
  })
  .strict()
  .meta({ id: 'AccountCreate' });
export type AccountCreate = z.infer<typeof AccountCreateSchema>;

export const AccountUpdateSchema = z
  .object({
    displayName: text(120).optional(),
    role: RoleSchema.optional(),
    password: PasswordSchema.optional(),
    disabled: z.boolean().optional(),
  })
  .strict()
  .meta({ id: 'AccountUpdate' });
export type AccountUpdate = z.infer<typeof AccountUpdateSchema>;

export const LoginSchema = z
  .object({ username: z.string().trim().min(1).max(64), password: z.string().min(1).max(256) })
  .strict()
  .meta({ id: 'Login' });
export type Login = z.infer<typeof LoginSchema>;

export const MeSchema = z
  .object({
    user: z.object({ id: z.string(), username: z.string(), displayName: z.string(), role: RoleSchema }).nullable(),
  })
  .meta({ id: 'Me', description: '`user` is null when not logged in' });
export type Me = z.infer<typeof MeSchema>;

// ── connection points ───────────────────────────────────────────────────────────────────

export const POINT_LEVELS = ['province', 'district', 'commune', 'agency'] as const;
export const PointLevelSchema = z.enum(POINT_LEVELS).meta({ id: 'PointLevel' });
export type PointLevel = z.infer<typeof PointLevelSchema>;

/** Codes are the points' ids: ASCII, stable, used in URLs, tokens and Redis keys. */
export const PointCodeSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(40, 'at most 40 characters')
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, dash and underscore only')
  .meta({ example: 'HT-CX-001' });

const optionalCode = z.preprocess(
  (v) => (v === '' || v === undefined ? null : typeof v === 'string' ? v.trim() || null : v),
  PointCodeSchema.nullable(),
);

export const PhoneSchema = z
  .string()
  .trim()
  .max(20)
  .regex(/^\+?[0-9 .-]{0,20}$/, 'digits, spaces, dots, dashes and a leading + only');

export const PointInputSchema = z
  .object({
    code: PointCodeSchema,
    name: text(200),
    level: PointLevelSchema,
    /** Code of the parent point; empty or null for the root (the province hall). */
    parent: optionalCode,
    /** District code for district and commune points, empty or null otherwise. */
    district: optionalCode,
    expectedDelegates: z.preprocess(
      (v) => (typeof v === 'string' ? (v.trim() === '' ? undefined : Number(v.trim())) : v),
      z
        .number({ error: 'must be a whole number' })
        .int('must be a whole number')
        .min(0, 'must be 0 or more')
        .max(100_000, 'at most 100000'),
    ),
    contactName: z.string().trim().max(120).default(''),
    contactPhone: PhoneSchema.default(''),
    /** Its room system's SIP address, which the monitor may have the server call (`sip:user@host[:port]`); empty: none. */
    sipAddress: z.string().trim().max(256).default(''),
  })
  .strict()
  .meta({ id: 'PointInput' });
export type PointInput = z.input<typeof PointInputSchema>;

export const PointSchema = z
  .object({
    id: z.string().meta({ description: 'equal to `code`' }),
    code: z.string(),
    name: z.string(),
    level: PointLevelSchema,
    parent: z.string().nullable(),
    district: z.string().nullable(),
    expectedDelegates: z.number().int(),
    contactName: z.string(),
    contactPhone: z.string(),
    sipAddress: z
      .string()
      .optional()
      .meta({ description: "its room system's SIP address (`sip:user@host[:port]`) for dial-out; absent: none" }),
    position: z.number().int().meta({ description: 'order in the registry: the import file order, new points last' }),
    updatedAt: DateTimeSchema,
  })
  .meta({ id: 'Point' });
export type Point = z.infer<typeof PointSchema>;

// The fields with defaults lose them: an update that leaves a field out keeps what is stored.
const { contactName, contactPhone, sipAddress } = PointInputSchema.shape;
export const PointUpdateSchema = PointInputSchema.omit({ code: true })
  .extend({ contactName: contactName.unwrap(), contactPhone: contactPhone.unwrap(), sipAddress: sipAddress.unwrap() })
  .partial()
  .strict()
  .meta({ id: 'PointUpdate', description: 'the code cannot change: it is the point id' });
export type PointUpdate = z.input<typeof PointUpdateSchema>;

export const PointListQuerySchema = PageQuerySchema.extend({
  q: z.string().trim().max(100).optional().meta({ description: 'matches code, name or contact, accents ignored' }),
  district: PointCodeSchema.optional(),
  level: PointLevelSchema.optional(),
});
export type PointListQuery = z.output<typeof PointListQuerySchema>;

export const PointPageSchema = pageOf(PointSchema).meta({ id: 'PointPage' });

export const PointSummarySchema = z
  .object({
    points: z.number().int(),
    expectedDelegates: z.number().int(),
    byLevel: z.array(z.object({ level: PointLevelSchema, points: z.number().int(), expectedDelegates: z.number() })),
    districts: z.array(
      z.object({ code: z.string(), name: z.string(), points: z.number().int(), expectedDelegates: z.number().int() }),
    ),
  })
  .meta({ id: 'PointSummary' });
export type PointSummary = z.infer<typeof PointSummarySchema>;

export const IMPORT_MODES = ['replace', 'merge'] as const;
export const ImportQuerySchema = z.object({
  format: z.enum(['csv', 'json']).default('csv'),
  dryRun: z
    .enum(['true', 'false', '1', '0'])
    .default('false')
    .transform((v) => v === 'true' || v === '1'),
  mode: z
    .enum(IMPORT_MODES)
    .default('replace')
    .meta({ description: '`replace`: the file becomes the whole registry; `merge`: adds and updates points' }),
});

export const PointsJsonImportSchema = z
  .object({ points: z.array(z.unknown()).max(50_000) })
  .strict()
  .meta({
    id: 'PointsJsonImport',
    description: 'each item is a PointInput; bad items are reported, not rejected here',
  });

export const ImportIssueSchema = z
  .object({
    row: z
      .number()
      .int()
      .meta({ description: '1-based data row (CSV: the header is not counted; JSON: array index + 1)' }),
    line: z.number().int().nullable().meta({ description: 'CSV: physical line in the file (the header is line 1)' }),
    column: z.string().meta({ description: 'the column or field, empty when the row as a whole is wrong' }),
    reason: z.string().meta({ description: 'in English, for API users; the pages render `issue` and `params`' }),
    issue: z.string().meta({ description: 'what is wrong, as a code: a zod issue code or the registry’s own' }),
    params: z
      .record(z.string(), z.union([z.string(), z.number()]))
      .optional()
      .meta({ description: 'the values the issue is about (a code, a row, a level…)' }),
  })
  .meta({ id: 'ImportIssue' });
export type ImportIssue = z.infer<typeof ImportIssueSchema>;

export const ImportReportSchema = z
  .object({
    dryRun: z.boolean(),
    mode: z.enum(IMPORT_MODES),
    imported: z.boolean().meta({ description: 'true only when nothing was wrong and it was not a dry run' }),
    rows: z.number().int(),
    created: z.number().int(),
    updated: z.number().int(),
    removed: z.number().int(),
    expectedDelegates: z.number().int(),
    issues: z.array(ImportIssueSchema),
  })
  .meta({ id: 'ImportReport' });
export type ImportReport = z.infer<typeof ImportReportSchema>;

// ── briefing sessions ───────────────────────────────────────────────────────────────────

export {
  SESSION_ACTIONS,
  SESSION_STATES,
  SessionActionSchema,
  SessionStateSchema,
  type SessionAction,
  type SessionState,
} from './session-state';

export const DocumentRefSchema = z
  .object({ title: text(200), url: z.url({ protocol: /^https?$/ }).max(2000) })
  .strict()
  .meta({ id: 'DocumentRef' });

export const AgendaItemInputSchema = z
  .object({
    id: z.string().max(40).optional().meta({ description: 'kept when editing; assigned when absent' }),
    title: text(300).meta({ example: 'Quán triệt Nghị quyết 05-NQ/TU' }),
    speaker: z.string().trim().max(120).default(''),
    role: z.string().trim().max(200).default('').meta({ example: 'Phó Bí thư Thường trực Tỉnh ủy' }),
    plannedMinutes: z.number().int().min(1).max(600),
    documents: z.array(DocumentRefSchema).max(20).default([]),
  })
  .strict()
  .meta({ id: 'AgendaItemInput' });
export type AgendaItemInput = z.input<typeof AgendaItemInputSchema>;

export const AgendaItemSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    speaker: z.string(),
    role: z.string(),
    plannedMinutes: z.number().int(),
    documents: z.array(z.object({ title: z.string(), url: z.string() })),
  })
  .meta({ id: 'AgendaItem' });
export type AgendaItem = z.infer<typeof AgendaItemSchema>;

export const InviteSchema = z
  .discriminatedUnion('mode', [
    z.object({ mode: z.literal('all') }).strict(),
    z.object({ mode: z.literal('districts'), districts: z.array(PointCodeSchema).min(1).max(200) }).strict(),
    z.object({ mode: z.literal('levels'), levels: z.array(PointLevelSchema).min(1).max(4) }).strict(),
    z.object({ mode: z.literal('points'), pointIds: z.array(PointCodeSchema).min(1).max(50_000) }).strict(),
  ])
  .meta({ id: 'Invite', description: 'which points are invited; resolved to point ids when saved' });
export type Invite = z.infer<typeof InviteSchema>;

const sessionFields = {
  title: text(300),
  description: z.string().trim().max(4000).default(''),
  scheduledStart: DateTimeSchema,
  lobbyOpensAt: DateTimeSchema.optional().meta({ description: 'default: 60 minutes before scheduledStart' }),
  plannedEnd: DateTimeSchema,
  agenda: z.array(AgendaItemInputSchema).max(100).default([]),
  invite: InviteSchema.default({ mode: 'all' }),
};

export const SessionCreateSchema = z.object(sessionFields).strict().meta({ id: 'SessionCreate' });
export type SessionCreate = z.input<typeof SessionCreateSchema>;

export const SessionUpdateSchema = z
  .object({
    title: sessionFields.title.optional(),
    description: z.string().trim().max(4000).optional(),
    scheduledStart: DateTimeSchema.optional(),
    lobbyOpensAt: DateTimeSchema.optional(),
    plannedEnd: DateTimeSchema.optional(),
    agenda: z.array(AgendaItemInputSchema).max(100).optional(),
    invite: InviteSchema.optional(),
  })
  .strict()
  .meta({
    id: 'SessionUpdate',
    description:
      'times only in draft or scheduled (rescheduling moves the jobs); title, agenda, invite and plannedEnd until it ends',
  });
export type SessionUpdate = z.input<typeof SessionUpdateSchema>;

export const StateChangeSchema = z.object({
  from: SessionStateSchema.nullable(),
  to: SessionStateSchema,
  at: DateTimeSchema,
  by: z.string().meta({ description: 'username, or `system` for a scheduled job' }),
});

export const SessionSchema = z
  .object({
    id: z.string(),
    title: z.string(),
    description: z.string(),
    state: SessionStateSchema,
    scheduledStart: DateTimeSchema,
    lobbyOpensAt: DateTimeSchema,
    plannedEnd: DateTimeSchema,
    agenda: z.array(AgendaItemSchema),
    invite: InviteSchema,
    invitedPointIds: z.array(z.string()),
    invitedDelegates: z.number().int(),
    startedAt: DateTimeSchema.nullable(),
    endedAt: DateTimeSchema.nullable(),
    startReachedAt: DateTimeSchema.nullable().meta({ description: 'set when the start-time job warned the host' }),
    overrunAt: DateTimeSchema.nullable().meta({ description: 'set when the session ran far past its planned end' }),
    history: z.array(StateChangeSchema),
    createdBy: z.string(),
    createdAt: DateTimeSchema,
    updatedAt: DateTimeSchema,
    rev: z.number().int(),
  })
  .meta({ id: 'Session' });
export type Session = z.infer<typeof SessionSchema>;

export const SessionSummarySchema = SessionSchema.omit({ invitedPointIds: true, history: true, agenda: true })
  .extend({ invitedPoints: z.number().int(), agendaItems: z.number().int() })
  .meta({ id: 'SessionSummary' });
export type SessionSummary = z.infer<typeof SessionSummarySchema>;

export const SessionListQuerySchema = PageQuerySchema.extend({ state: SessionStateSchema.optional() });
export const SessionPageSchema = pageOf(SessionSummarySchema).meta({ id: 'SessionPage' });

// ── join links ──────────────────────────────────────────────────────────────────────────

/** The alphabet the page router accepts for `/join/<token>`. */
export const JoinTokenSchema = z.string().regex(/^[A-Za-z0-9_.-]{16,512}$/, 'not a join token');

export const JoinLinkSchema = z
  .object({
    pointId: z.string(),
    code: z.string(),
    name: z.string(),
    level: PointLevelSchema.nullable().meta({ description: 'null when the point left the registry' }),
    district: z.string().nullable(),
    contactName: z.string(),
    contactPhone: z.string(),
    url: z.string(),
    token: z.string(),
    version: z.number().int().meta({ description: 'incremented each time the link is re-issued' }),
    issuedAt: DateTimeSchema,
    revokedAt: DateTimeSchema.nullable(),
    validFrom: DateTimeSchema,
    validUntil: DateTimeSchema,
  })
  .meta({ id: 'JoinLink' });
export type JoinLink = z.infer<typeof JoinLinkSchema>;

/** How a point's room system dials in over SIP (docs/sip.md). */
export const SipDialInSchema = z
  .object({
    pointId: z.string(),
    /** `sip:<code>@<host>[:port]`, with digest user name `username` and password `pin`. */
    uri: z.string(),
    /** For systems without digest: the PIN in the address, `sip:<code>*<pin>@<host>`. */
    uriWithPin: z.string(),
    username: z.string(),
    realm: z.string(),
    /** 12 digits; changes with each session and with a re-issued link. */
    pin: z.string().regex(/^\d{12}$/),
    /** Whether the gateway listens on this server (SIP_PORT set). */
    enabled: z.boolean(),
  })
  .meta({ id: 'SipDialIn' });
export type SipDialIn = z.infer<typeof SipDialInSchema>;

export const JoinLinkPageSchema = pageOf(JoinLinkSchema).meta({ id: 'JoinLinkPage' });
export const LinkListQuerySchema = PageQuerySchema.extend({
  q: z.string().trim().max(100).optional(),
  district: PointCodeSchema.optional(),
});

/** What a point's page learns from its token: its session and itself, nothing else. */
export const JoinInfoSchema = z
  .object({
    session: SessionSchema.pick({
      id: true,
      title: true,
      state: true,
      scheduledStart: true,
      lobbyOpensAt: true,
      plannedEnd: true,
      agenda: true,
    }),
    point: PointSchema.pick({ id: true, code: true, name: true, level: true, district: true, expectedDelegates: true }),
  })
  .meta({ id: 'JoinInfo' });
export type JoinInfo = z.infer<typeof JoinInfoSchema>;

// ── path parameters ─────────────────────────────────────────────────────────────────────

export const IdParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
});
export const SessionPointParamSchema = z.object({
  id: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_-]+$/),
  pointId: PointCodeSchema,
});
export const TokenParamSchema = z.object({ token: JoinTokenSchema });
