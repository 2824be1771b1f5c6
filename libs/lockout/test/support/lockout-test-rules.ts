/**
 * The production lockout rules (5 failures per pair, 8 per account, 12 per address) with one-minute
 * windows and locks, so a spec can watch a lock start and, with its own shorter values, end.
 */
export const ONE_MINUTE_RULES = {
  pairMaxFailures: 5,
  pairWindowMs: 60_000,
  baseLockMs: 30_000,
  maxLockMs: 60_000,
  backoffResetMs: 60_000,
  emailMaxFailures: 8,
  emailWindowMs: 60_000,
  emailLockMs: 60_000,
  ipMaxFailures: 12,
  ipWindowMs: 60_000,
  ipBlockMs: 60_000,
};

/** Accounts a spec registers; each test takes its own, so no two share an account's ceiling. */
export const TEST_ACCOUNTS = [
  'alice@example.com',
  'bob@example.com',
  'carol@example.com',
  'dave@example.com',
  'erin@example.com',
  'frank@example.com',
  'grace@example.com',
  'heidi@example.com',
  'ivan@example.com',
  'judy@example.com',
  'mallory@example.com',
  'oscar@example.com',
  'trent@example.com',
  'victor@example.com',
];
