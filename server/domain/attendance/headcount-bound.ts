// How far a point's reported headcount may stray from its expected delegates. A room
// holds about what the registry expects; a typo or a hostile page must not add 100,000
// delegates to the province's total. Above the limit a report is refused; between the
// expected number (with some slack) and the limit it is kept, and the desk is alerted
// (a `headcount` alert on /monitor) to check it. Delegates' check-ins have their own, tighter
// cap (checkinCap): each one is a person at the point, not an operator's estimate.

export interface HeadcountJudgement {
  /** Stored (within the limit). */
  accepted: boolean;
  /** Worth a look by the desk (above the expected number plus slack, or refused). */
  outlier: boolean;
  /** The most this point may report. */
  limit: number;
}

/** The most a point may report: twice its expected delegates, and at least 50 more than expected. */
export const headcountLimit = (expected: number): number => Math.max(expected * 2, expected + 50);

/** Above this a kept count is flagged: a fifth more than expected, and at least 10 more. */
const flagAbove = (expected: number): number => Math.max(Math.ceil(expected * 1.2), expected + 10);

export function judgeHeadcount(count: number, expected: number): HeadcountJudgement {
  const limit = headcountLimit(expected);
  return { accepted: count <= limit, outlier: count > flagAbove(expected), limit };
}

/**
 * The most check-ins a point takes: its expected delegates plus `marginPercent` (at least
 * 2 more). Above the expected number the desk is alerted; at the cap a check-in is refused.
 */
export const checkinCap = (expected: number, marginPercent: number): number =>
  expected + Math.max(2, Math.ceil((expected * marginPercent) / 100));
