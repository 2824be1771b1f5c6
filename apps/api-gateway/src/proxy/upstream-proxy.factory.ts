import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import { createProxyMiddleware, type RequestHandler } from 'http-proxy-middleware';
import { mergeRelayedRateLimitHeaders } from '@lib/throttling';
import { CLIENT_HEADERS_DROPPED, forwardedHeaders } from './forwarded-headers';

/**
 * A streaming reverse proxy to one upstream service (http-proxy-middleware): bodies are piped,
 * never buffered. `/api` is stripped from the path; the client address resolved by the gateway
 * (trusted-proxy aware) replaces any X-Forwarded-For the client sent, so services that trust the
 * gateway see the real client and nothing a client made up. A service that limits the request too
 * sends its own rate-limit headers; they are merged with the gateway's, not copied over them.
 */
export function createUpstreamProxy(target: string, timeoutMs: number): RequestHandler {
  return createProxyMiddleware<IncomingMessage, ServerResponse>({
    target,
    changeOrigin: true,
    xfwd: false,
    proxyTimeout: timeoutMs,
    timeout: timeoutMs,
    pathRewrite: (path) => path.replace(/^\/api(?=\/|$)/, '') || '/',
    on: {
      proxyReq: (proxyReq: ClientRequest, req: IncomingMessage) => {
        for (const header of CLIENT_HEADERS_DROPPED) proxyReq.removeHeader(header);
        for (const [name, value] of Object.entries(forwardedHeaders(req))) proxyReq.setHeader(name, value);
      },
      // Runs before the proxy copies the upstream's headers onto the response.
      proxyRes: (proxyRes: IncomingMessage, _req: IncomingMessage, res: ServerResponse) => {
        mergeRelayedRateLimitHeaders((name) => res.getHeader(name), proxyRes.headers, proxyRes.statusCode);
      },
      error: (error: Error & { code?: string }, _req: IncomingMessage, res: ServerResponse | import('node:net').Socket) => {
        if (!('writeHead' in res) || res.headersSent) {
          if ('destroy' in res) res.destroy();
          return;
        }
        const timedOut = error.code === 'ECONNRESET' || error.code === 'ETIMEDOUT' || /timeout/i.test(error.message);
        const status = error.code === 'ECONNREFUSED' ? 502 : timedOut ? 504 : 502;
        res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
        res.end(JSON.stringify({ statusCode: status, message: status === 504 ? 'Upstream timed out' : 'Upstream unavailable' }));
      },
    },
  });
}
