import type { SecurityEventsModuleOptions } from './security-events.module-definition';

/**
 * Refuses, at start-up and naming the option, what would otherwise surface at the first security
 * event: an unset key (`process.env.PSEUDONYM_KEY!`) makes every event throw, so the request that
 * locks an account or is rate limited answers 500; an empty key makes pseudonyms anyone can
 * recompute from a list of emails.
 */
export function checkSecurityEventsOptions(options: SecurityEventsModuleOptions): void {
  const problems: string[] = [];
  if (typeof options.service !== 'string' || options.service === '') {
    problems.push(`service must be a non-empty name (got ${shown(options.service)})`);
  }
  if (typeof options.pseudonymKey !== 'string' || options.pseudonymKey === '') {
    // The key itself is never shown: only whether it was there.
    problems.push(
      `pseudonymKey must be a non-empty secret (got ${options.pseudonymKey === '' ? 'an empty string' : typeof options.pseudonymKey})`,
    );
  }
  if (problems.length > 0) throw new Error(`SecurityEventsModule: ${problems.join('; ')}`);
}

// A value as the adopter wrote it: a string quoted, undefined as undefined.
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}
