import { shownOptionValue } from '@nest-hardening/errors';

import type { LockoutAccountDirectory } from './lockout-account-directory.interface';

/**
 * Options of {@link LockoutModule}. Every limit has a default that follows ASVS 4.0.3 2.2.1 and
 * NIST SP 800-63B; tests shrink the windows to seconds.
 */
export interface LockoutModuleOptions {
  /**
   * Where lockout state lives. `'redis'` (default): shared by every instance, through the global
   * `RedisModule`. `'memory'`: this process only, no Redis needed; for an adopter's unit tests,
   * never for production (it logs a warning at start-up when `NODE_ENV=production`).
   */
  store?: 'redis' | 'memory';
  /**
   * With `store: 'memory'`: most accounts, addresses and (account, address) pairs kept; beyond it
   * the least recently used account or address is forgotten, its locks with it. Default 10 000.
   */
  memoryMaxEntries?: number;
  /**
   * Secret for the keyed hashes of emails and addresses used in Redis keys, so neither appears raw
   * in Redis and a key cannot be matched against a list of emails without the secret.
   * Changing it forgets all lockout state, unless the old value is given as `previousKeySecret`.
   */
  keySecret: string;
  /**
   * During a rotation of `keySecret`: its previous value. State found under names made with it is
   * moved to the current names when the account and address are next seen, and admin reads and
   * unlocks cover both (docs/key-rotation.md). Must differ from `keySecret`.
   */
  previousKeySecret?: string;
  /** Failures per (email, address) pair within `pairWindowMs` that lock the pair. Default 5. */
  pairMaxFailures?: number;
  /** Default 15 minutes. */
  pairWindowMs?: number;
  /** Duration of the first pair lock; each further lock within `backoffResetMs` doubles it. Default 15 minutes. */
  baseLockMs?: number;
  /** Ceiling of the doubled pair lock. Default 24 hours. */
  maxLockMs?: number;
  /** The backoff level is forgotten this long after the end of the pair's last lock. Default 24 hours. */
  backoffResetMs?: number;
  /**
   * Consecutive failures per account (from addresses without a recent successful login) that lock
   * the account for such addresses: counted since the last successful login, not per window
   * (NIST SP 800-63B: at most 100 consecutive failures). Default 100.
   */
  emailMaxFailures?: number;
  /** How long an account-wide reservation may stay pending (a crashed process's is freed after it). Default 1 hour. */
  emailWindowMs?: number;
  /**
   * The account-wide lock holds until a successful login from a known address, a password change
   * or an admin unlock, and at most this long; the failure streak is remembered as long after the
   * last failure. Default 90 days.
   */
  emailLockMs?: number;
  /** Failures from one address across all emails within `ipWindowMs` that block the address. Default 50. */
  ipMaxFailures?: number;
  /** Default 1 hour. */
  ipWindowMs?: number;
  /** Default 1 hour. */
  ipBlockMs?: number;
  /** An address with a successful login this recent is exempt from the account-wide lock. Default 30 days. */
  knownAddressTtlMs?: number;
  /**
   * How many of an account's most recently seen addresses are tracked for admin state and unlock
   * (bounds the memory an attack adds to one account and the time of those scripts). An address
   * dropped from the list keeps its locks, and an unlock still voids them. Also how many of its most
   * recent known addresses (successful logins) stay known. Default 1000.
   */
  addressCap?: number;
  /**
   * At most one lock email per account per this interval; the account-wide lock's email is sent even
   * within it (and restarts it). Default 1 hour.
   */
  notificationIntervalMs?: number;
  /**
   * `smtp://` or `smtps://` URL; lock emails are disabled when unset. An `smtp://` URL with a user or
   * password requires STARTTLS (`?requireTLS=false` in the URL turns that off, for a relay on the same host).
   */
  smtpUrl?: string;
  /** Sender of lock emails. Default `Security <no-reply@localhost>`. */
  mailFrom?: string;
  /** Product name used in the lock email. Default `your account`. */
  productName?: string;
  /** Maps emails to accounts; without it no lock email is sent (unknown emails never get one). */
  accountDirectory?: LockoutAccountDirectory;
  /**
   * What the guard does when Redis cannot be reached. `fail-closed` (default) answers 503, so an
   * outage never turns into unlimited password guessing; `fail-open` lets the login through uncounted.
   */
  onRedisError?: 'fail-closed' | 'fail-open';
}

/** Options with every default applied. */
export type ResolvedLockoutOptions = Required<Omit<LockoutModuleOptions, 'smtpUrl' | 'accountDirectory' | 'previousKeySecret'>> &
  Pick<LockoutModuleOptions, 'smtpUrl' | 'accountDirectory' | 'previousKeySecret'>;

/** Default {@link LockoutModuleOptions.addressCap}. */
export const DEFAULT_LOCKOUT_ADDRESS_CAP = 1000;

/** Default {@link LockoutModuleOptions.memoryMaxEntries}. */
export const DEFAULT_LOCKOUT_MEMORY_MAX_ENTRIES = 10_000;

/** The numeric options: counts, durations and sizes, each a whole number of at least 1. */
const POSITIVE_INTEGER_OPTIONS = [
  'memoryMaxEntries',
  'pairMaxFailures',
  'pairWindowMs',
  'baseLockMs',
  'maxLockMs',
  'backoffResetMs',
  'emailMaxFailures',
  'emailWindowMs',
  'emailLockMs',
  'ipMaxFailures',
  'ipWindowMs',
  'ipBlockMs',
  'knownAddressTtlMs',
  'addressCap',
  'notificationIntervalMs',
] as const satisfies readonly (keyof LockoutModuleOptions)[];

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

export function resolveLockoutOptions(options: LockoutModuleOptions): ResolvedLockoutOptions {
  if (!options.keySecret) throw new Error('LockoutModule: keySecret is required');
  // A move from the names to themselves copies the state, merges it into itself, then removes what
  // it copied: every login attempt would erase the counts and locks it is checked against.
  if (options.previousKeySecret === options.keySecret) {
    throw new Error('LockoutModule: previousKeySecret must differ from keySecret (set it only during a rotation, to the old value)');
  }
  // NaN, Infinity, 0 or a negative window reach the scripts as limits no count ever meets, or as
  // keys that expire at once: logins would never lock, silently. Refuse them at start-up instead.
  for (const name of POSITIVE_INTEGER_OPTIONS) {
    const value = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && value >= 1)) {
      throw new Error(`LockoutModule: ${name} must be a positive integer (got ${shownOptionValue(value)})`);
    }
  }
  if (options.store !== undefined && !['redis', 'memory'].includes(options.store)) {
    throw new Error(`LockoutModule: store must be 'redis' or 'memory' (got ${shownOptionValue(options.store)})`);
  }
  if (options.onRedisError !== undefined && !['fail-closed', 'fail-open'].includes(options.onRedisError)) {
    throw new Error(`LockoutModule: onRedisError must be 'fail-closed' or 'fail-open' (got ${shownOptionValue(options.onRedisError)})`);
  }
  return {
    store: 'redis',
    memoryMaxEntries: DEFAULT_LOCKOUT_MEMORY_MAX_ENTRIES,
    pairMaxFailures: 5,
    pairWindowMs: 15 * MINUTE,
    baseLockMs: 15 * MINUTE,
    maxLockMs: 24 * HOUR,
    backoffResetMs: 24 * HOUR,
    emailMaxFailures: 100,
    emailWindowMs: HOUR,
    emailLockMs: 90 * 24 * HOUR,
    ipMaxFailures: 50,
    ipWindowMs: HOUR,
    ipBlockMs: HOUR,
    knownAddressTtlMs: 30 * 24 * HOUR,
    addressCap: DEFAULT_LOCKOUT_ADDRESS_CAP,
    notificationIntervalMs: HOUR,
    mailFrom: 'Security <no-reply@localhost>',
    productName: 'your account',
    onRedisError: 'fail-closed',
    ...withoutUndefined(options),
    keySecret: options.keySecret,
  };
}

// A `{ smtpUrl: undefined }` from a config object must not wipe a default.
function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
