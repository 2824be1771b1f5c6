import type { IncomingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop fields (RFC 9110 §7.6.1): they describe one connection, not the message, so a proxy
 * never forwards them in either direction. `proxy-connection` is the non-standard cousin clients
 * still send; `host` is not hop-by-hop but is set per upstream.
 */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer', 'host']);

/**
 * The end-to-end fields of a message: every field except the hop-by-hop ones, those the
 * `Connection` field names, and `dropped` (lower-case names). Values are copied as Node parsed them.
 */
export function endToEndHeaders(headers: IncomingHttpHeaders, dropped: ReadonlySet<string> = EMPTY): IncomingHttpHeaders {
  const named = connectionOptions(headers.connection);
  const result: IncomingHttpHeaders = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || dropped.has(name) || named?.has(name)) continue;
    result[name] = headers[name];
  }
  return result;
}

const EMPTY: ReadonlySet<string> = new Set();

/** The field names listed in a `Connection` field ("close" and "keep-alive" among them, harmlessly). */
function connectionOptions(field: string | string[] | undefined): Set<string> | undefined {
  // A response field sent twice arrives as an array (undici); a request's is joined by Node.
  const connection = Array.isArray(field) ? field.join(',') : field;
  if (!connection || connection === 'keep-alive' || connection === 'close') return undefined;
  return new Set(
    connection
      .split(',')
      .map((option) => option.trim().toLowerCase())
      .filter(Boolean),
  );
}
