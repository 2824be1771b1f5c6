export type SecuritySeverity = 'info' | 'warning' | 'critical';

/**
 * One security-relevant fact. `type` is a stable snake_case name (`account_locked`,
 * `refresh_token_reuse`, ...) used for grouping in Sentry and for alerting rules.
 * `pseudonymous` fields are HMAC'd before leaving the process; `details` must never hold a
 * password, token or raw refresh token.
 */
export interface SecurityEvent {
  type: string;
  severity: SecuritySeverity;
  /** Sub-rule for grouping (`pair`, `email_ceiling`, ...). Events group by `type` + `rule`. */
  rule?: string;
  /** Identifiers that are personal data (email, IP): logged and sent only as pseudonyms. */
  pseudonymous?: Record<string, string | undefined>;
  /** Non-personal context: ids, counts, durations. */
  details?: Record<string, string | number | boolean | null | undefined>;
  /**
   * Routine facts (a login succeeded or failed) kept only by in-process sinks such as an audit
   * trail: not logged, not sent to Sentry.
   */
  auditOnly?: boolean;
}
