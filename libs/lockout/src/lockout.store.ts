import type { LockoutReservation } from './lockout-reservation.interface';
import type { LockoutState } from './lockout-state.interface';
import type { LockoutSubject } from './lockout.keys';

/** Which rule refused an attempt (logged, never sent to the client). */
export type LockoutRule = 'pair' | 'email' | 'ip';

export type ReserveOutcome = { allowed: true; reservation: LockoutReservation } | { allowed: false; waitMs: number; rule: LockoutRule };

/** Locks a confirmed failure started (0 = not started by this failure). */
export interface FailureOutcome {
  pairLockMs: number;
  backoffLevel: number;
  emailLockMs: number;
  ipBlockMs: number;
}

/** What a successful login changed beyond the pair's count and the account's streak. */
export interface SuccessOutcome {
  /** It ended the account-wide lock (the attempt came from a known address). */
  emailLockEnded: boolean;
  /** When it recorded the address as known (the store's clock, epoch ms), for {@link LockoutStore.forgetKnownAddress}. */
  knownSince: number;
}

/** What an unlock clears beyond locks, counts and backoff levels. */
export interface UnlockOptions {
  /**
   * Also forget the account's known addresses (exempt from the account-wide lock): for a password
   * change, after which a success with the old password proves nothing.
   */
  forgetKnownAddresses?: boolean;
}

/**
 * Port of the lockout state: every rule of docs/lockout.md is decided here, each operation
 * atomically. Implementations: `RedisLockoutStore` (shared by every instance; the default) and
 * `MemoryLockoutStore` (one process; `LockoutModule.forRoot({ store: 'memory' })`, unit tests only).
 * An abstract class so that it is its own injection token.
 */
export abstract class LockoutStore {
  /** The keyed hashes that name an account (normalised email) and an address. */
  abstract subject(normalizedEmail: string, ip: string): LockoutSubject;

  /** Checks every applying lock and, if none applies, counts the attempt as pending in every window. */
  abstract reserve(normalizedEmail: string, ip: string, userAgent?: string): Promise<ReserveOutcome>;

  /** The password was wrong: counts the pending attempt as a failure, starting whichever lock it reaches. */
  abstract confirmFailure(reservation: LockoutReservation): Promise<FailureOutcome>;

  /**
   * The password was right: resets the pair's failures and the account's streak (ending the
   * account-wide lock), remembers the address as known.
   */
  abstract recordSuccess(reservation: LockoutReservation): Promise<SuccessOutcome>;

  /**
   * The password a success proved was replaced before its login completed: the address stops being
   * known, unless a later success (one other than that recorded at `knownSince`) recorded it again.
   */
  abstract forgetKnownAddress(reservation: LockoutReservation, knownSince: number): Promise<void>;

  /** Removes a still-pending reservation from every window; returns false if it was already settled. */
  abstract release(reservation: LockoutReservation): Promise<boolean>;

  /** The account's state (with the address's spraying budget when `ip` is given). */
  abstract readState(normalizedEmail: string, ip?: string): Promise<LockoutState>;

  /** Clears the account's locks and counts (and, if asked, its known addresses) atomically; returns the state before. */
  abstract unlock(normalizedEmail: string, options?: UnlockOptions): Promise<LockoutState>;

  /**
   * True for the first caller per account per notification interval. `always` claims (and restarts)
   * the interval even when an email was sent in it: for the account-wide lock, which one confirmed
   * failure starts once until the owner signs in, changes the password or an admin unlocks.
   */
  abstract claimNotification(emailHash: string, always?: boolean): Promise<boolean>;
}
