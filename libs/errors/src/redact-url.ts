/**
 * A connection URL as a log line or an error message may show it: the password, in the user part
 * or in any query parameter whose name contains "pass" (pg and ioredis both read `?password=`),
 * becomes `***`, and so does the user name with `hideUser`. Undefined when `url` does not parse, or
 * has credentials but no `//` before them.
 */
export function redactUrl(url: string, { hideUser = false } = {}): string | undefined {
  try {
    const parsed = new URL(url);
    // Without `//` (`rediss:user:password@host:6379`, which the settings accept) WHATWG URL sees a
    // path and no password, while ioredis reads one there: nothing of such a url is shown.
    if (!parsed.host && url.includes('@')) return undefined;
    if (parsed.password) parsed.password = '***';
    if (hideUser && parsed.username) parsed.username = '***';
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    return undefined;
  }
}
