/**
 * A module option's value as the adopter wrote it, for a start-up error that names it: a string
 * quoted, NaN as NaN (JSON would print null), undefined as undefined. Never pass a secret.
 */
export function shownOptionValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
