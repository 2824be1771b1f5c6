/**
 * The gateway's own UpstreamProxy on a bare node:http server: no Nest, no Express, no guards.
 * Between (cn) and (d) of `npm run bench:gateway`, it splits what the gateway costs over a bare
 * proxy into the proxy code itself and the framework and security in front of it.
 * Prints `READY <port>` when listening.
 */
import { createServer } from 'node:http';

import { UpstreamProxy } from '../../apps/api-gateway/src/proxy/upstream-proxy';

const proxy = new UpstreamProxy(process.env.BARE_TARGET ?? 'http://127.0.0.1:3002', {
  timeoutMs: 10_000,
  connections: 256,
  idleTimeoutMs: 30_000,
});
const server = createServer((req, res) => proxy.forward(req, res));
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
