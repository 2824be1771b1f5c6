import { domainToASCII, domainToUnicode } from 'node:url';

import { isEmail } from 'class-validator';

import { keptText } from '@nest-hardening/security-events';

/**
 * The form every account lookup and lockout key uses: trimmed, NFKC, lower-cased. NFKC folds the
 * spellings a person cannot tell apart (`josé` composed or decomposed, full-width `ａｄａ`) onto one,
 * so they reach one account and one lockout count instead of registering beside it.
 *
 * NFKC runs again after lower-casing: the lower case of a capital with no precomposed form (`Ϊ́`)
 * composes (`ΐ`), and without it the stored form would normalise to another key, so an admin unlock,
 * which starts from the stored email, would clear a count login never uses. The result is its own
 * normal form (a leading `¨` becomes a space and a mark, hence the second trim).
 *
 * A string of its own: an address trimmed out of a padded body would otherwise keep the whole body
 * alive in every event that names it (see `keptText`).
 */
export function normalizeLoginEmail(email: string): string {
  return keptText(email.trim().normalize('NFKC').toLowerCase().normalize('NFKC').trim());
}

/** Longest address RFC 5321 lets through (a path of 256 octets minus the angle brackets). */
export const MAX_EMAIL_LENGTH = 254;

/**
 * The one definition of an acceptable account email, used by the request validators (register,
 * login) and by the lockout guard alike: every address an account can be registered with is counted
 * by the lockout (quoted local parts such as `"a b"@example.com` included), and anything else is
 * refused by validation before a password is ever checked. A new account needs
 * {@link isDeliverableEmail} too; an account registered before that rule keeps logging in (and
 * being counted) under the spelling it has.
 */
export function isCountableEmail(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  // A lone UTF-16 surrogate makes validator's isByteLength (encodeURI) throw URIError: not an email.
  if (/\p{Surrogate}/u.test(value)) return false;
  // Judged as it will be used: in the form normalizeLoginEmail stores and looks up.
  const email = normalizeLoginEmail(value);
  // Invisible format characters (zero-width space, bidi overrides, soft hyphen) survive NFKC and
  // would make an address that looks like another account's.
  if (email.length > MAX_EMAIL_LENGTH || /\p{Cf}/u.test(email)) return false;
  return isEmail(email);
}

/**
 * A countable email that mail delivers to that address and no other: what a new account may be
 * registered with, and what a lock email is sent to. Another spelling of one inbox would be one more
 * account, with a lock email of the hour of its own, in that inbox.
 */
export function isDeliverableEmail(value: unknown): value is string {
  if (!isCountableEmail(value)) return false;
  const email = normalizeLoginEmail(value);
  // The other default-ignorable characters (combining grapheme joiner, variation selectors, Hangul
  // fillers) are as invisible as the format characters isCountableEmail refuses: a new address with
  // one would look like another account's. Refused here, not at login, so that an account registered
  // before this rule still signs in.
  return !/\p{Default_Ignorable_Code_Point}/u.test(email) && isDeliveredAsWritten(email);
}

/**
 * Whether mail to the address reaches that address and no other. Each spelling below is delivered to
 * another one (lock emails included), so it would be one more account, with a lock email of the hour
 * of its own, in that other address's inbox; and an attacker can write as many of them as they like.
 * - control characters, and white space other than the space (line and paragraph separators and
 *   the Ogham space survive NFKC): nodemailer drops the one, and reads the other as the end of a
 *   display name (`x\u2028ada@example.com` is delivered to `ada@example.com`);
 * - a quoted local part that needs no quotes, or escapes a character other than `"` and `\`:
 *   `"ada"@example.com` and `"\ada"@example.com` are `ada@example.com` (RFC 5321 §4.1.2);
 * - a quoted local part beginning or ending with a space, or holding `<` or `>`, which nodemailer
 *   trims or replaces (`"ada "@example.com` is delivered to `ada@example.com`);
 * - a domain that is not as IDNA writes it: characters IDNA ignores (variation selectors) or maps
 *   (an ideographic full stop) make another spelling of a domain (UTS #46).
 */
function isDeliveredAsWritten(email: string): boolean {
  if (/[\p{Cc}\p{Zl}\p{Zp}]|(?! )\p{Zs}/u.test(email)) return false;
  const at = email.lastIndexOf('@');
  const [local, domain] = [email.slice(0, at), email.slice(at + 1)];
  const ascii = domainToASCII(domain);
  if (ascii === '' || (ascii !== domain && domainToUnicode(ascii) !== domain)) return false;
  const quoted = /^"((?:[^"\\]|\\[\s\S])*)"$/.exec(local);
  if (!quoted) return true;
  const content = quoted[1];
  const escaped = [...content.matchAll(/\\([\s\S])/g)].map(([, character]) => character);
  if (escaped.some((character) => character !== '"' && character !== '\\')) return false;
  if (/^ | $|[<>]/.test(content)) return false;
  return !isEmail(`${content}@${domain}`);
}
