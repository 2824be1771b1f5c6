import { Inject, Injectable, Logger, Optional, type OnApplicationShutdown } from '@nestjs/common';

import { failureReason } from '@nest-hardening/errors';
import { keptText, SecurityEvents } from '@nest-hardening/security-events';

import { LockoutAccountDirectory } from './lockout-account-directory.interface';
import type { LockoutReservation } from './lockout-reservation.interface';
import type { LockoutState } from './lockout-state.interface';
import { isDeliverableEmail, normalizeLoginEmail } from './lockout.email';
import { LockoutMetrics } from './lockout.metrics';
import { LockoutNotifier, notificationFailure } from './lockout.notifier';
import { LockoutStore, type LockoutRule } from './lockout.store';

/** The longest user agent kept with a reservation and its events (real ones are under 300 characters). */
export const MAX_USER_AGENT_LENGTH = 512;

/** How long a shutdown waits for lock emails still being sent. */
const NOTIFICATION_SHUTDOWN_WAIT_MS = 5_000;

/** Most lock emails under way (the owner found, waiting for or on the relay); more are dropped and logged. */
export const MAX_WAITING_LOCK_EMAILS = 100;

/** Outcome of {@link LockoutService.reserve}. */
export type LockoutDecision =
  { allowed: true; reservation: LockoutReservation } | { allowed: false; retryAfterSeconds: number; rule: LockoutRule };

/** Who unlocks which account, for the audit event. */
export interface UnlockActor {
  adminId: string;
  accountId: string;
}

/**
 * Account lockout rules: reserve an attempt before the password is checked, settle it afterwards,
 * report locks, and let admins inspect and clear an account's state.
 */
@Injectable()
export class LockoutService implements OnApplicationShutdown {
  private readonly logger = new Logger(LockoutService.name);
  private readonly notifications = new Set<Promise<void>>();
  /** Lock emails under way: tasks past the lookup with an account found, until their email is sent or given up. */
  private emailsUnderWay = 0;
  private readonly settled = new WeakSet<LockoutReservation>();
  /** When each successful reservation's address was recorded as known, for {@link recordSuperseded}. */
  private readonly knownSince = new WeakMap<LockoutReservation, number>();

  constructor(
    private readonly store: LockoutStore,
    private readonly events: SecurityEvents,
    private readonly notifier: LockoutNotifier,
    private readonly metrics: LockoutMetrics,
    @Optional() @Inject(LockoutAccountDirectory) private readonly directory?: LockoutAccountDirectory | null,
  ) {}

  /**
   * Checks every applying lock and, if none applies, counts the attempt as a pending failure.
   * Used by {@link LockoutGuard}; call it yourself only for non-HTTP logins.
   */
  async reserve(email: string, rawIp: string, rawUserAgent?: string): Promise<LockoutDecision> {
    const normalized = normalizeLoginEmail(email);
    // Kept with the reservation and in its events, which the audit trail may buffer by the thousand
    // while its database is away: a 16 kB header must not become 16 kB per event, nor stay alive
    // behind the piece of it kept (an address read from X-Forwarded-For is one too).
    const userAgent = rawUserAgent === undefined ? undefined : keptText(rawUserAgent, MAX_USER_AGENT_LENGTH);
    const ip = keptText(rawIp);
    const outcome = await this.store.reserve(normalized, ip, userAgent);
    if (outcome.allowed) return outcome;
    this.metrics.refused[outcome.rule]++;
    this.events.emit({
      type: 'login_locked_out',
      severity: 'info',
      rule: outcome.rule,
      auditOnly: true,
      pseudonymous: { email: normalized, ip, userAgent },
      details: { address: this.addressId(ip) },
    });
    return { allowed: false, retryAfterSeconds: Math.ceil(outcome.waitMs / 1000), rule: outcome.rule };
  }

  /**
   * The password was wrong (or the email unknown): confirms the reserved attempt, which may start
   * a lock, report it and notify the owner. Never throws: a Redis error leaves the attempt pending,
   * so it still counts until its window ends. `undefined` (no reservation was made) and a
   * reservation already settled are no-ops: the first settlement counts.
   */
  async recordFailure(reservation: LockoutReservation | undefined): Promise<void> {
    if (!reservation || this.settled.has(reservation)) return;
    this.settled.add(reservation);
    let outcome;
    try {
      outcome = await this.store.confirmFailure(reservation);
    } catch (error) {
      this.logger.warn(`Could not confirm a failed login: ${failureReason(error)}`);
      return;
    }
    const at = new Date();
    const pseudonymous = { email: reservation.email, ip: reservation.ip };
    if (outcome.pairLockMs > 0) {
      this.metrics.locks.pair++;
      this.events.emit({
        type: 'account_locked',
        severity: 'warning',
        rule: 'pair',
        pseudonymous,
        details: { backoffLevel: outcome.backoffLevel, lockSeconds: Math.ceil(outcome.pairLockMs / 1000) },
      });
      // The account-wide lock started by the same failure has its own email, which says more.
      if (outcome.emailLockMs === 0) this.notifyOwner(reservation, at, new Date(at.getTime() + outcome.pairLockMs), false);
    }
    if (outcome.emailLockMs > 0) {
      this.metrics.locks.email_ceiling++;
      this.events.emit({
        type: 'account_lock_email_ceiling',
        severity: 'critical',
        rule: 'email_ceiling',
        pseudonymous,
        details: { lockSeconds: Math.ceil(outcome.emailLockMs / 1000) },
      });
      this.notifyOwner(reservation, at, new Date(at.getTime() + outcome.emailLockMs), true);
    }
    if (outcome.ipBlockMs > 0) {
      this.metrics.locks.ip_spraying++;
      this.events.emit({
        type: 'ip_spraying_blocked',
        severity: 'warning',
        rule: 'ip_spraying',
        pseudonymous: { ip: reservation.ip },
        details: { blockSeconds: Math.ceil(outcome.ipBlockMs / 1000) },
      });
    }
  }

  /**
   * The password was right: resets the pair's failure count (not its backoff level), gives the
   * attempt back and remembers the address as known. Never throws.
   *
   * A handler may call it as soon as the password is verified, in the same tick as its own Redis
   * write (a login's session), so both share one round trip; {@link LockoutSettlementInterceptor}
   * then finds the attempt settled and adds none. If the write fails, the attempt stays unsettled,
   * so the interceptor tries again and the guard gives it back when the response is sent: a right
   * password must not stay counted as a pending failure.
   */
  async recordSuccess(reservation: LockoutReservation | undefined): Promise<void> {
    if (!reservation || this.settled.has(reservation)) return;
    let outcome;
    try {
      outcome = await this.store.recordSuccess(reservation);
      this.settled.add(reservation);
      this.knownSince.set(reservation, outcome.knownSince);
    } catch (error) {
      this.logger.warn(`Could not record a successful login: ${failureReason(error)}`);
      return;
    }
    // The owner signed in from a known address: the account-wide lock is lifted, and every lift is reported.
    if (outcome.emailLockEnded) {
      this.events.emit({
        type: 'account_unlocked',
        severity: 'info',
        rule: 'known_address',
        pseudonymous: { email: reservation.email, ip: reservation.ip },
        details: { previousEmailLocked: true },
      });
    }
  }

  /**
   * The password a successful attempt proved was replaced before its login completed (the handler
   * refuses the login as stale): the address its success recorded as known is forgotten again. A
   * password change forgets every known address, and a login still verifying the old password
   * meanwhile records its address after that; without this, an intruder who keeps signing in with
   * the old password would keep the exemption from the account-wide lock. Never throws.
   */
  async recordSuperseded(reservation: LockoutReservation | undefined): Promise<void> {
    const knownSince = reservation && this.knownSince.get(reservation);
    if (!reservation || knownSince === undefined) return;
    this.knownSince.delete(reservation);
    try {
      await this.store.forgetKnownAddress(reservation, knownSince);
    } catch (error) {
      this.logger.warn(`Could not forget the address of a superseded login: ${failureReason(error)}`);
    }
  }

  /** Whether the attempt was already settled (succeeded, failed or released). */
  isSettled(reservation: LockoutReservation): boolean {
    return this.settled.has(reservation);
  }

  /**
   * The password was never judged (the body failed validation after the guard, or the handler
   * failed first): gives the attempt back, so requests that cost no password check cannot fill
   * the windows and lock an account silently. A settled reservation is left alone. Never throws.
   */
  async release(reservation: LockoutReservation): Promise<void> {
    if (this.settled.has(reservation)) return;
    this.settled.add(reservation);
    try {
      await this.store.release(reservation);
    } catch (error) {
      this.logger.warn(`Could not release an unsettled login attempt: ${failureReason(error)}`);
    }
  }

  /** The account's locks and counts; pass an address to include its pair and spraying budget. */
  async getState(email: string, ip?: string): Promise<LockoutState> {
    return this.store.readState(normalizeLoginEmail(email), ip);
  }

  /**
   * Clears every lock, count and backoff level of the account across all addresses (idempotent)
   * and reports `account_unlocked`. Returns the state before the unlock.
   */
  async unlock(email: string, actor: UnlockActor): Promise<LockoutState> {
    const normalized = normalizeLoginEmail(email);
    const previous = await this.store.unlock(normalized);
    this.metrics.unlocks++;
    this.events.emit({
      type: 'account_unlocked',
      severity: 'info',
      rule: 'admin',
      pseudonymous: { email: normalized },
      details: {
        adminId: actor.adminId,
        accountId: actor.accountId,
        previousLocked: previous.locked,
        previousLockedUntil: previous.lockedUntil?.toISOString() ?? null,
        previousEmailLocked: previous.emailLocked,
        previousEmailFailures: previous.emailFailures,
        previousBackoffLevel: previous.backoffLevel,
        previousLockedAddresses: previous.addresses.filter((a) => a.locked).length,
      },
    });
    return previous;
  }

  /**
   * The owner proved the account is theirs by setting a new password: every lock, count and backoff
   * level of the account is cleared, as an admin unlock would (the account-wide lock holds until a
   * successful login from a known address, a password change or an admin unlock). Its known
   * addresses are forgotten: they signed in with the old password, possibly an intruder's, and must
   * not keep their exemption from the account-wide lock; the address that made the change becomes
   * known again when its attempt is settled as a success. Never throws.
   */
  async resetAfterPasswordChange(email: string, accountId: string): Promise<void> {
    const normalized = normalizeLoginEmail(email);
    try {
      const previous = await this.store.unlock(normalized, { forgetKnownAddresses: true });
      if (!previous.locked && previous.emailFailures === 0) return;
      this.events.emit({
        type: 'account_unlocked',
        severity: 'info',
        rule: 'password_change',
        pseudonymous: { email: normalized },
        details: { accountId, previousLocked: previous.locked, previousEmailFailures: previous.emailFailures },
      });
    } catch (error) {
      this.logger.warn(`Could not reset lockout state after a password change: ${failureReason(error)}`);
    }
  }

  /** The hashed name an address has in {@link LockoutState} (to find it without storing raw IPs). */
  addressId(ip: string): string {
    return this.store.subject('', ip).addressHash;
  }

  /** Waits for lock emails being sent (tests, shutdown). */
  async flushNotifications(): Promise<void> {
    while (this.notifications.size > 0) await Promise.allSettled([...this.notifications]);
  }

  async onApplicationShutdown(): Promise<void> {
    // Lock emails under way get a few seconds, not the relay's timeouts: the orchestrator's grace
    // period (often 30 s) must also cover the requests being drained and the other shutdown hooks.
    let deadline: NodeJS.Timeout | undefined;
    const expired = new Promise<'expired'>((resolve) => (deadline = setTimeout(() => resolve('expired'), NOTIFICATION_SHUTDOWN_WAIT_MS)));
    const outcome = await Promise.race([this.flushNotifications(), expired]);
    clearTimeout(deadline);
    if (outcome === 'expired')
      this.logger.warn(`${this.notifications.size} lock email(s) not sent: the SMTP relay did not answer before shutdown`);
    this.notifier.close();
  }

  // Runs in the background: awaiting the directory and SMTP would make a known email's failed
  // login slower than an unknown one's, which tells an attacker which emails exist.
  // The account-wide lock's email is sent even after a pair lock's email of the hour: that one said
  // the lock lifts within minutes, and this lock holds for new addresses until the owner acts. One
  // failure starts it once until the owner signs in, changes the password or an admin unlocks, so
  // an attacker cannot repeat it.
  private notifyOwner(reservation: LockoutReservation, at: Date, lockedUntil: Date, accountWide: boolean): void {
    if (!this.notifier.enabled || !this.directory) return;
    const directory = this.directory;
    const task = (async () => {
      const account = await directory.findByEmail(reservation.email);
      if (!account) return;
      // An address registered before isDeliverableEmail was required may be delivered to another one.
      if (!isDeliverableEmail(account.email)) {
        this.logger.warn('Lock notification not sent: the account address is one mail would deliver to another address');
        return;
      }
      // Counted once the owner is found, so locks of unknown emails (which need no account to
      // cause) cannot use up the room; and before the owner's one email of the hour is claimed: an
      // email dropped after the claim would leave them without one for the rest of the hour.
      if (this.emailsUnderWay >= MAX_WAITING_LOCK_EMAILS) {
        this.logger.warn(`Lock notification dropped: ${MAX_WAITING_LOCK_EMAILS} lock emails are already under way`);
        return;
      }
      this.emailsUnderWay++;
      try {
        if (!(await this.store.claimNotification(reservation.emailHash, accountWide))) return;
        await this.notifier.send({ to: account.email, at, lockedUntil, accountWide, ip: reservation.ip, userAgent: reservation.userAgent });
      } finally {
        this.emailsUnderWay--;
      }
    })()
      .catch((error: unknown) => this.logger.warn(`Lock notification failed: ${notificationFailure(error, reservation.email)}`))
      .finally(() => this.notifications.delete(task));
    this.notifications.add(task);
  }
}
