/**
 * A connection URL as a log line or an error message may show it: the password, in the user part
 * or in any query parameter whose name contains "pass" (pg and ioredis both read `?password=`),
 * becomes `***`, and so does the user name with `hideUser`. Undefined when `url` does not parse.
 */
export function redactUrl(url: string, { hideUser = false } = {}): string | undefined {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    if (hideUser && parsed.username) parsed.username = '***';
    for (const key of [...parsed.searchParams.keys()]) if (/pass/i.test(key)) parsed.searchParams.set(key, '***');
    return parsed.toString();
  } catch {
    return undefined;
  }
}
