import { DomainError } from '@nest-hardening/errors';

/** Why a password was refused; each reason has its own stable error code and a message a person understands. */
export type WeakPasswordReason = 'common' | 'breached' | 'email' | 'email_name' | 'service_name' | 'pattern' | 'unchanged';

const MESSAGES: Record<WeakPasswordReason, string> = {
  common: 'This password is one of the most commonly used passwords; choose another',
  breached: 'This password has appeared in a known data breach; choose another',
  email: 'The password must not contain your email address',
  email_name: 'The password must not contain the name in your email address (the part before the @)',
  service_name: 'The password must not contain the name of this service',
  pattern: "The password must not be a repeated or sequential pattern such as 'aaaa', 'abcabc', '1234' or 'qwerty'",
  unchanged: 'The new password must be different from the current one',
};

/** A password the policy refuses (NIST SP 800-63B 3.1.1.2); answered with 400 and the reason. */
export class WeakPasswordError extends DomainError {
  readonly kind = 'invalid';

  constructor(readonly reason: WeakPasswordReason) {
    super(`password_${reason}`, MESSAGES[reason]);
  }
}
