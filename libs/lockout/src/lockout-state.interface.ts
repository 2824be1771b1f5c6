/** One address that has tried to log in to the account. */
export interface LockoutAddressState {
  /** Keyed hash of the address (the raw address is not stored); see `LockoutService.addressId`. */
  address: string;
  locked: boolean;
  lockedUntil: Date | null;
  /** Number of pair locks in the current backoff run (0 = none; the next lock lasts base * 2^level). */
  backoffLevel: number;
  /** Confirmed failures in the current pair window. */
  failures: number;
  /** Attempts reserved and still being verified. */
  pending: number;
  /** Last successful login from this address, if it is still remembered as known. */
  lastSuccessAt: Date | null;
}

/** Spraying budget of one address across all emails. */
export interface LockoutIpState {
  address: string;
  blocked: boolean;
  blockedUntil: Date | null;
  failures: number;
  pending: number;
}

/** Lockout state of an account, as an admin sees it. */
export interface LockoutState {
  /** True when the account-wide lock or any pair lock is active. */
  locked: boolean;
  /** The latest end among the active locks. */
  lockedUntil: Date | null;
  emailLocked: boolean;
  emailLockedUntil: Date | null;
  /** Consecutive failures since the last successful login (known addresses are not counted). */
  emailFailures: number;
  emailPending: number;
  /** The highest backoff level among the listed addresses. */
  backoffLevel: number;
  /** The account's most recent addresses, at most `addressCap` (older ones keep their locks, unlisted). */
  addresses: LockoutAddressState[];
  /** Present when `getState` was given an address. */
  ip?: LockoutIpState;
}
