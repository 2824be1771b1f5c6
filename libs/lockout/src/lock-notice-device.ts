import { UAParser } from 'ua-parser-js';

/** What a lock email says of a user agent that names no browser or system ua-parser-js knows. */
export const UNRECOGNISED_DEVICE = 'not recognised';

/**
 * The browser and system a lock email names ("Firefox 128 on Linux"): only names ua-parser-js
 * recognises, in letters, digits and spaces. The user agent is whatever the attacker sent, and the
 * email goes out from the service's own domain: no link, address or sentence of theirs may reach it.
 */
export function lockNoticeDevice(userAgent: string | undefined): string {
  if (!userAgent) return UNRECOGNISED_DEVICE;
  const { browser, os } = UAParser(userAgent);
  const client = plainWords(browser.name, majorVersion(browser.major));
  const system = plainWords(os.name);
  if (client && system) return `${client} on ${system}`;
  return client || system || UNRECOGNISED_DEVICE;
}

// The version is copied from the user agent too, digits only but as many as the attacker writes
// ("Firefox/18005550100", a phone number to call): browsers number their versions in 1 to 4 digits.
function majorVersion(major: string | undefined): string | undefined {
  return major && /^\d{1,4}$/.test(major) ? major : undefined;
}

// Device vendors and models are copied from the user agent as written, so they are never named.
function plainWords(...parts: (string | undefined)[]): string {
  return parts
    .filter(Boolean)
    .join(' ')
    .replace(/[^A-Za-z0-9 ]/g, '')
    .slice(0, 40)
    .trim();
}
