/**
 * A module option's value as the adopter wrote it, for a start-up error that names it: a string
 * quoted, NaN as NaN (JSON would print null), undefined as undefined. Never pass a secret.
 */
export function shownOptionValue(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

/** What is wrong with an option that must be a whole number from `min` to `max`, or undefined. */
export function wholeNumberProblem(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): string | undefined {
  if (Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max) return undefined;
  return `${name} must be a whole number from ${min} to ${max} (got ${shownOptionValue(value)})`;
}
