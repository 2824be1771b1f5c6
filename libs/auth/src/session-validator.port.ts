import type { AuthenticatedUser } from './authenticated-user.interface';

/**
 * The revocation check every service runs on every authenticated request: is the token's session
 * still active, and is the token itself not denylisted? Implemented by `@nest-hardening/sessions`.
 * Must throw or reject (not answer false) when the answer cannot be known, e.g. Redis is down.
 * May answer synchronously when it already knows (a cached answer): the guard then decides the
 * request without an await, which matters on a path every request takes.
 */
export interface SessionValidator {
  isActive(user: AuthenticatedUser): boolean | Promise<boolean>;
}
export const SessionValidator = Symbol('SessionValidator');
