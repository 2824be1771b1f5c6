import { createHash } from 'node:crypto';

export type BreachCheckResult = { status: 'breached' | 'not_breached' } | { status: 'unavailable'; reason: string };

/**
 * k-anonymity range query against a Pwned Passwords-compatible API: only the first 5 hex digits of
 * the password's SHA-1 leave the process (`GET <baseUrl>/range/<prefix>`); the answer lists the
 * suffixes sharing that prefix as `SUFFIX:COUNT` lines, padded with count-0 entries so that its size
 * says nothing either.
 */
export class BreachedPasswordClient {
  private readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async check(password: string): Promise<BreachCheckResult> {
    const sha1 = createHash('sha1').update(password, 'utf8').digest('hex').toUpperCase();
    const prefix = sha1.slice(0, 5);
    const suffix = sha1.slice(5);
    let body: string;
    try {
      const res = await fetch(`${this.baseUrl}/range/${prefix}`, {
        headers: { 'Add-Padding': 'true', Accept: 'text/plain' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      if (!res.ok) return { status: 'unavailable', reason: `status_${res.status}` };
      body = await res.text();
    } catch (error) {
      // A DOMException, which is not an instance of Error in every realm: read its name.
      const timedOut = (error as { name?: unknown } | null)?.name === 'TimeoutError';
      return { status: 'unavailable', reason: timedOut ? 'timeout' : 'unreachable' };
    }
    for (const line of body.split('\n')) {
      const [candidate, count] = line.trim().split(':');
      if (candidate?.toUpperCase() === suffix && Number(count) > 0) return { status: 'breached' };
    }
    return { status: 'not_breached' };
  }
}
