import { createHash } from 'node:crypto';
import { createServer } from 'node:http';

import { freePort } from './free-port';

export interface BreachedPasswordsStub {
  /** Base URL for PASSWORD_BREACH_API_URL: `http://127.0.0.1:<port>`. */
  url: string;
  /** Request paths received, in order (the k-anonymity property is checked on them). */
  requests: string[];
  close(): Promise<void>;
}

/**
 * A local Pwned Passwords range API: `GET /range/<5 hex>` answers the SHA-1 suffixes of `breached`
 * that share the prefix, as `SUFFIX:COUNT` lines, plus padding lines with count 0 as the real API
 * does. Anything else is a 404.
 */
export async function startBreachedPasswordsStub(breached: string[]): Promise<BreachedPasswordsStub> {
  const hashes = breached.map((p) => createHash('sha1').update(p, 'utf8').digest('hex').toUpperCase());
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const match = /^\/range\/([0-9A-F]{5})$/i.exec(req.url ?? '');
    if (req.method !== 'GET' || !match) return void res.writeHead(404).end();
    const prefix = match[1].toUpperCase();
    const lines = hashes.filter((h) => h.startsWith(prefix)).map((h, i) => `${h.slice(5)}:${i + 3}`);
    lines.push(`${'0'.repeat(35)}:0`, `${'F'.repeat(35)}:0`);
    res.writeHead(200, { 'content-type': 'text/plain' }).end(lines.join('\r\n'));
  });
  const port = await freePort();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
