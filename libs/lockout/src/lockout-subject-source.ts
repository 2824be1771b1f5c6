/**
 * Whose account an attempt is counted against: the `email` field of the body (login), or the
 * authenticated caller's own account (a password change that checks the current password).
 */
export type LockoutSubjectSource = 'body-email' | 'current-user';

/** Route metadata written by `@LockoutProtected()` and read by `LockoutGuard`. */
export const LOCKOUT_SUBJECT_SOURCE = Symbol('lockoutSubjectSource');
