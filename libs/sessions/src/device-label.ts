import { UAParser } from 'ua-parser-js';

/** A short human label for a user agent ("Firefox 128 on Windows"), for session lists. */
export function deviceLabel(userAgent: string): string {
  if (!userAgent) return 'Unknown device';
  const { browser, os, device } = UAParser(userAgent);
  const client = [browser.name, browser.major].filter(Boolean).join(' ');
  const platform = [device.vendor, device.model].filter(Boolean).join(' ') || os.name || '';
  if (client && platform) return `${client} on ${platform}`;
  return client || platform || userAgent.slice(0, 60);
}
