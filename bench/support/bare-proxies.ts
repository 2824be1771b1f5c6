/**
 * The bare Node proxies of `npm run bench:gateway`, each on its own free port, nothing but the
 * hop: `/api` stripped, a keep-alive pool to the service, bodies piped. BARE_PROXY=node is a
 * node:http client with a keep-alive Agent (the gateway's UpstreamProxy uses an undici pool instead);
 * BARE_PROXY=hpm is http-proxy-middleware with a keep-alive Agent (the usual Node answer).
 * Prints `READY <port>` when listening.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';

const target = new URL(process.env.BARE_TARGET ?? 'http://127.0.0.1:3002');
const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256, scheduling: 'lifo', timeout: 30_000 });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer', 'host']);
const strip = (url: string) => url.replace(/^\/api(?=[/?]|$)/, '') || '/';

function nodeProxy(req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string | string[] | undefined> = { host: target.host };
  for (const name in req.headers) if (!HOP.has(name)) headers[name] = req.headers[name];
  const upstream = request(
    { agent, hostname: target.hostname, port: target.port, method: req.method, path: strip(req.url ?? '/'), headers },
    (upstreamRes) => {
      for (const name in upstreamRes.headers) if (!HOP.has(name)) res.setHeader(name, upstreamRes.headers[name] as string);
      res.writeHead(upstreamRes.statusCode ?? 502);
      upstreamRes.pipe(res);
    },
  );
  upstream.on('error', () => {
    res.statusCode = 502;
    res.end();
  });
  req.pipe(upstream);
}

function hpmProxy(): (req: IncomingMessage, res: ServerResponse) => void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { createProxyMiddleware } = require('http-proxy-middleware') as typeof import('http-proxy-middleware');
  const middleware = createProxyMiddleware<IncomingMessage, ServerResponse>({
    target: target.origin,
    agent,
    changeOrigin: true,
    pathRewrite: strip,
  });
  return (req, res) => void middleware(req, res, () => undefined);
}

const server = createServer(process.env.BARE_PROXY === 'hpm' ? hpmProxy() : nodeProxy);
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`READY ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => process.exit(0));
