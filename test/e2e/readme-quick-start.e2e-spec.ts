import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { startTestSystem, type TestSystem } from '../support';

const README = join(__dirname, '../../README.md');

/** The shell block of the README's quick start that talks to the running system ("In another shell"). */
function quickStartCommands(): string {
  const blocks = [...readFileSync(README, 'utf8').matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]);
  const block = blocks.find((b) => b.startsWith('api=localhost:3000/api'));
  if (!block) throw new Error('README.md has no quick-start block starting with api=localhost:3000/api');
  return block;
}

/**
 * Prepended to the quick start: curl sends even loopback requests through the proxy that
 * `http_proxy`/`ALL_PROXY` name (CI runners often export one), and reads the user's ~/.curlrc.
 * `-S` keeps a failure's reason on stderr, so a failed run says why.
 */
const LOOPBACK_CURL = `curl() { command curl -q --noproxy '*' -S "$@"; }\n`;

/**
 * The README's quick start, run as written with bash and curl against the apps `npm start` runs
 * (here in process, on free ports): a first reader's commands must work and answer what they say.
 */
describe('README.md quick start', () => {
  let system: TestSystem;
  // A proxy that cannot reach this machine's loopback, as a CI runner's proxy cannot.
  let proxy: Server;
  let proxyUrl: string;

  beforeAll(async () => {
    proxy = createServer((_req, res) => res.writeHead(502).end());
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    system = await startTestSystem({ label: 'readme' });
  });

  afterAll(async () => {
    await system?.close();
    await new Promise((resolve) => proxy?.close(resolve));
  });

  it('registers, logs in, reads /me, /profile and the sessions, and logs out with 204, after which the token is refused, whatever proxy the environment names', async () => {
    const gateway = new URL(system.gatewayUrl).host;
    // Every command at the start of a line prints its status on a line of its own; the piped login
    // is left as written (its output is the token).
    const script =
      LOOPBACK_CURL +
      quickStartCommands()
        .replace('localhost:3000', gateway)
        .replace(/^curl -s /gm, 'curl -s -w "\\n%{http_code}\\n" ') +
      'curl -s -o /dev/null -w "%{http_code}\\n" $api/me -H "authorization: Bearer $TOKEN"\n';
    // Asynchronously: the apps answer from this process's event loop.
    const env = { ...process.env, http_proxy: proxyUrl, HTTP_PROXY: proxyUrl, ALL_PROXY: proxyUrl, all_proxy: proxyUrl };
    const { stdout } = await promisify(execFile)('bash', ['-eo', 'pipefail', '-c', script], { env });
    const statuses = stdout.split('\n').filter((line) => /^\d{3}$/.test(line));
    expect(statuses).toEqual(['201', '200', '200', '200', '204', '401']);
    expect(stdout).toContain('"email":"ada@example.com"');
  });
});
