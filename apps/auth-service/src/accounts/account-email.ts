/**
 * The form and validity of an account's email, owned by accounts: normalised (trim, NFKC, lower case) for
 * storage and lookup, acceptable only where the lockout can count it. The rule is the lockout
 * library's own, so that every email an account can be registered with is counted (one definition
 * for both; docs/security.md). A new account's must also be delivered as written; an account
 * registered before that rule still logs in, and is found, under the spelling it has.
 */
export {
  isCountableEmail as isAccountEmail,
  isDeliverableEmail as isNewAccountEmail,
  MAX_EMAIL_LENGTH,
  normalizeLoginEmail as normalizeEmail,
} from '@nest-hardening/lockout';
