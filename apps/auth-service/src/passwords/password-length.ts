/**
 * NIST SP 800-63B rev. 4 §3.1.1.2: a password that is the only authenticator SHALL be at least 15
 * characters (ASVS 5.0 6.2.1); docs/decisions/010. Only new passwords are held to it: login
 * verifies whatever hash is stored, so an older, shorter password keeps working until it is changed.
 */
export const PASSWORD_MIN_LENGTH = 15;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * Characters counted as Unicode code points (an emoji is one) of the NFC form, which is what is
 * hashed: `é` typed as `e` plus a combining accent is one character, or decomposed letters would
 * count twice.
 */
export function passwordLength(password: string): number {
  return [...password.normalize('NFC')].length;
}

export function hasAcceptablePasswordLength(password: string): boolean {
  const length = passwordLength(password);
  return length >= PASSWORD_MIN_LENGTH && length <= PASSWORD_MAX_LENGTH;
}

export const PASSWORD_LENGTH_MESSAGE = `password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`;
