const TEN_MINUTES = String(10 * 60 * 1000);

/**
 * auth-service's lockout settings for the system tests of the lockout, on a single Redis and on a
 * Cluster alike: a pair locks after 5 failures, an email after 8, an address is blocked after 10;
 * every window and lock lasts 10 minutes, so nothing expires during a test.
 */
export const LOCKOUT_TEST_ENV: Readonly<Record<string, string>> = {
  LOCKOUT_PAIR_MAX_FAILURES: '5',
  LOCKOUT_PAIR_WINDOW_MS: TEN_MINUTES,
  LOCKOUT_BASE_LOCK_MS: TEN_MINUTES,
  LOCKOUT_MAX_LOCK_MS: TEN_MINUTES,
  LOCKOUT_EMAIL_MAX_FAILURES: '8',
  LOCKOUT_EMAIL_WINDOW_MS: TEN_MINUTES,
  LOCKOUT_EMAIL_LOCK_MS: TEN_MINUTES,
  LOCKOUT_IP_MAX_FAILURES: '10',
  LOCKOUT_IP_WINDOW_MS: TEN_MINUTES,
  LOCKOUT_IP_BLOCK_MS: TEN_MINUTES,
};
