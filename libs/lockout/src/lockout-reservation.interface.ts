/**
 * A login attempt counted up front by {@link LockoutGuard} as a pending failure, settled from the
 * handler's outcome by `@LockoutProtected()` (or through its `LoginAttempt`); reservations of a
 * crashed process drop out when their window ends.
 */
export interface LockoutReservation {
  readonly id: string;
  /** Normalised email (kept in memory only; never a Redis key, never logged raw). */
  readonly email: string;
  readonly ip: string;
  readonly userAgent?: string;
  readonly emailHash: string;
  readonly addressHash: string;
  /** The address had a recent successful login, so it is exempt from the account-wide ceiling. */
  readonly knownAddress: boolean;
}
