import type { AuthenticatedUser } from './authenticated-user.interface';

/**
 * The revocation check every service runs on every authenticated request: is the token's session
 * still active, and is the token itself not denylisted? Implemented by `@lib/sessions`.
 * Must throw (not return false) when the answer cannot be known, e.g. Redis is down.
 */
export interface SessionValidator {
  isActive(user: AuthenticatedUser): Promise<boolean>;
}
export const SessionValidator = Symbol('SessionValidator');
