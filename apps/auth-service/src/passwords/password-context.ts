import { comparisonForm } from './password-comparison-form';
import type { WeakPasswordReason } from './weak-password.error';

/** Context words shorter than this are not checked: they occur inside too many good passphrases. */
export const MIN_CONTEXT_WORD_LENGTH = 4;

/** Letters, marks and digits of the comparison form: `Ada.Lovelace` and `ada-lovelace` are the same word. */
function skeleton(value: string): string {
  return comparisonForm(value).replace(/[^\p{L}\p{M}\p{N}]/gu, '');
}

/**
 * The first context word the password contains (NIST SP 800-63B 3.1.1.2: "context-specific words,
 * such as the name of the service, the username"): the email, its local part, then the service's
 * names. Containment rather than equality, because the first guesses of a targeted attacker are the
 * username with a few characters added (`ada.lovelace1815!`); separators and case are ignored for
 * the same reason.
 */
export function findContextWord(password: string, email: string, serviceWords: readonly string[]): WeakPasswordReason | undefined {
  const secret = skeleton(password);
  const contains = (word: string) => {
    const w = skeleton(word);
    return w.length >= MIN_CONTEXT_WORD_LENGTH && secret.includes(w);
  };
  if (contains(email)) return 'email';
  const at = email.lastIndexOf('@');
  if (at > 0 && contains(email.slice(0, at))) return 'email_name';
  if (serviceWords.some(contains)) return 'service_name';
  return undefined;
}
