/** Emails are compared and stored trimmed and lower-cased, everywhere (accounts, lockout counters). */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
