import { UAParser } from 'ua-parser-js';

/**
 * Longest label kept: sessions store the label, and a hash whose values all stay under 64 bytes
 * keeps Redis's compact encoding (a hostile user agent can make the parsed names long).
 */
export const MAX_DEVICE_LABEL_LENGTH = 60;

/**
 * Labels of recently seen user agents. Parsing one costs far more than the rest of a session's
 * bookkeeping, and a login labels the same agent twice (the session and the audit trail) while
 * most clients share a few agents. Bounded in entries and in agent length, so agents invented by a
 * client only evict entries.
 */
const LABEL_CACHE_SIZE = 1000;
const MAX_CACHED_AGENT_LENGTH = 512;
const labels = new Map<string, string>();

/** A short human label for a user agent ("Firefox 128 on Windows"), for session lists. */
export function deviceLabel(userAgent: string): string {
  if (!userAgent) return 'Unknown device';
  if (userAgent.length > MAX_CACHED_AGENT_LENGTH) return parseLabel(userAgent);
  const cached = labels.get(userAgent);
  if (cached !== undefined) return cached;
  const label = parseLabel(userAgent);
  if (labels.size >= LABEL_CACHE_SIZE) labels.delete(labels.keys().next().value as string);
  labels.set(userAgent, label);
  return label;
}

function parseLabel(userAgent: string): string {
  const { browser, os, device } = UAParser(userAgent);
  const client = [browser.name, browser.major].filter(Boolean).join(' ');
  const platform = [device.vendor, device.model].filter(Boolean).join(' ') || os.name || '';
  const label = client && platform ? `${client} on ${platform}` : client || platform || userAgent;
  return [...label].slice(0, MAX_DEVICE_LABEL_LENGTH).join('');
}
