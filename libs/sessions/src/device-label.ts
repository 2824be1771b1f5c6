import { UAParser } from 'ua-parser-js';

/**
 * Longest label kept, in UTF-8 bytes (what Redis counts): sessions store the label, and a hash whose
 * values all stay within 64 bytes keeps Redis's compact encoding, at less than half the memory (a
 * hostile user agent can make the parsed names long, and any byte above 0x7f of a header is a
 * character of two UTF-8 bytes).
 */
export const MAX_DEVICE_LABEL_BYTES = 60;

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
  return truncateUtf8(label, MAX_DEVICE_LABEL_BYTES);
}

/** The longest prefix of whole characters that fits in `maxBytes` of UTF-8. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (text.length <= maxBytes / 3) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > maxBytes) break;
    end += char.length;
  }
  return text.slice(0, end);
}
