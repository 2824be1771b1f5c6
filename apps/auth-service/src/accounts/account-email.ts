/**
 * The form and validity of an account's email, owned by accounts: normalised (trim, NFKC, lower case) for
 * storage and lookup, acceptable only where the lockout can count it. The rule is the lockout
 * library's own, so that every email an account can be registered with is counted (one definition
 * for both; docs/security.md).
 */
export { isCountableEmail as isAccountEmail, MAX_EMAIL_LENGTH, normalizeLoginEmail as normalizeEmail } from '@nest-hardening/lockout';
