export interface Checkout {
  /** The commit checked out; '' when unknown (no git, not a checkout). */
  commit: string;
  /** The tree differed from the commit, or whether it did is unknown. */
  dirty: boolean;
  /** First 12 hex digits of the difference's sha256; 'unknown' when git could not say; absent when clean. */
  diff?: string;
}

export function readCheckout(dir?: string): Checkout;
