import { UAParser } from 'ua-parser-js';

/**
 * Longest label kept: sessions store the label, and a hash whose values all stay under 64 bytes
 * keeps Redis's compact encoding (a hostile user agent can make the parsed names long).
 */
export const MAX_DEVICE_LABEL_LENGTH = 60;

/** A short human label for a user agent ("Firefox 128 on Windows"), for session lists. */
export function deviceLabel(userAgent: string): string {
  if (!userAgent) return 'Unknown device';
  const { browser, os, device } = UAParser(userAgent);
  const client = [browser.name, browser.major].filter(Boolean).join(' ');
  const platform = [device.vendor, device.model].filter(Boolean).join(' ') || os.name || '';
  const label = client && platform ? `${client} on ${platform}` : client || platform || userAgent;
  return [...label].slice(0, MAX_DEVICE_LABEL_LENGTH).join('');
}
