/** The form every lockout key and lookup uses: trimmed and lower-cased. */
export function normalizeLoginEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Loose shape check, only to decide whether an attempt is counted: anything else is left to the
 * login route's validation (400), which runs after the guard.
 */
export function isCountableEmail(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const email = normalizeLoginEmail(value);
  return email.length >= 3 && email.length <= 254 && /^[^\s@]+@[^\s@]+$/.test(email);
}
