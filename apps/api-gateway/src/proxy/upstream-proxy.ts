import {
  request as httpRequest,
  type Agent,
  type ClientRequest,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';

import { mergeRelayedRateLimitHeaders } from '@nest-hardening/rate-limit';

import { CLIENT_HEADERS_DROPPED, forwardedHeaders } from './forwarded-headers';
import { endToEndHeaders } from './hop-by-hop-headers';
import { createUpstreamAgent, type UpstreamAgentOptions } from './upstream-agent';

export interface UpstreamProxyOptions extends UpstreamAgentOptions {
  /** An upstream silent for this long before its response headers gets the client a 504. */
  timeoutMs: number;
}

/** Methods a client may repeat without changing the outcome (RFC 9110 §9.2.2): safe to send twice. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/** Errors of a pooled connection the upstream closed while the request was being written. */
const STALE_SOCKET = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED']);
const DROPPED: ReadonlySet<string> = new Set(CLIENT_HEADERS_DROPPED);

/**
 * A streaming reverse proxy to one upstream service over a bounded keep-alive pool: request and
 * response bodies are piped in both directions, never buffered; hop-by-hop fields are dropped both
 * ways, so client and gateway keep their own connection and the gateway keeps its pooled one.
 * `/api` is stripped from the path; the headers the gateway decides ({@link forwardedHeaders}) replace
 * whatever the client sent. A service that limits the request too sends its own rate-limit headers;
 * they are merged with the gateway's, not copied over them.
 */
export class UpstreamProxy {
  private readonly agent: Agent;
  private readonly send: typeof httpRequest;
  private readonly hostname: string;
  private readonly port: string;
  private readonly host: string;

  constructor(
    target: string,
    private readonly options: UpstreamProxyOptions,
  ) {
    const url = new URL(target);
    this.agent = createUpstreamAgent(url, options);
    this.send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    this.hostname = url.hostname.replace(/^\[|\]$/g, '');
    this.port = url.port;
    this.host = url.host;
  }

  forward(req: IncomingMessage, res: ServerResponse): void {
    const headers = this.upstreamHeaders(req);
    // A body that has started to stream cannot be sent again, so only requests without one are retried.
    const retryable = IDEMPOTENT.has(req.method ?? '') && !hasBody(req);
    const path = upstreamPath((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/');
    let upstream: ClientRequest | undefined;
    let clientGone = false;
    res.once('close', () => {
      // The client went away first: stop the upstream work and do not return that socket to the pool.
      if (res.writableFinished) return;
      clientGone = true;
      upstream?.destroy();
    });
    const attempt = (retried: boolean) => {
      let timedOut = false;
      const sent = this.send({
        agent: this.agent,
        hostname: this.hostname,
        port: this.port,
        method: req.method,
        path,
        headers,
        timeout: this.options.timeoutMs,
      });
      upstream = sent;
      sent.once('timeout', () => {
        timedOut = true;
        sent.destroy();
      });
      sent.once('response', (upstreamRes) => relayResponse(upstreamRes, res));
      sent.on('error', (error: NodeJS.ErrnoException) => {
        if (clientGone) return;
        // A pooled connection the upstream closed just as it was reused: the request never reached it.
        if (!retried && retryable && !timedOut && sent.reusedSocket && STALE_SOCKET.has(error.code ?? '') && !res.headersSent) {
          attempt(true);
          return;
        }
        answerFailure(res, timedOut ? 504 : 502);
      });
      if (hasBody(req)) req.pipe(sent);
      else sent.end();
    };
    attempt(false);
  }

  /** The client's end-to-end headers, minus those only the gateway may set, plus the gateway's own. */
  private upstreamHeaders(req: IncomingMessage): IncomingHttpHeaders {
    const headers = endToEndHeaders(req.headers, DROPPED);
    Object.assign(headers, forwardedHeaders(req));
    headers.host = this.host;
    // A chunked body stays chunked: without a length, Node would send a GET's or DELETE's body unframed.
    if (req.headers['transfer-encoding'] !== undefined && req.headers['content-length'] === undefined)
      headers['transfer-encoding'] = 'chunked';
    return headers;
  }
}

function relayResponse(upstreamRes: IncomingMessage, res: ServerResponse): void {
  // Before the service's headers are copied: a budget header removed here keeps the gateway's value.
  mergeRelayedRateLimitHeaders((name) => res.getHeader(name), upstreamRes.headers, upstreamRes.statusCode);
  const headers = endToEndHeaders(upstreamRes.headers);
  for (const name in headers) res.setHeader(name, headers[name] as string | string[]);
  res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage);
  upstreamRes.once('close', () => {
    // The service broke off mid-body: the client must see a broken response, not a short one.
    if (!upstreamRes.complete) res.destroy();
  });
  // A body of unknown length is a stream (an early answer to an upload, a stream of events): its
  // headers go out now. A body of known length carries them in its first packet.
  if (upstreamRes.headers['content-length'] === undefined) res.flushHeaders();
  upstreamRes.pipe(res);
}

function answerFailure(res: ServerResponse, status: 502 | 504): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
  res.end(JSON.stringify({ statusCode: status, message: status === 504 ? 'Upstream timed out' : 'Upstream unavailable' }));
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/** The path the service serves: the gateway's `/api` prefix removed. */
function upstreamPath(url: string): string {
  const path = url.replace(/^\/api(?=[/?]|$)/, '');
  return path.startsWith('/') ? path : `/${path}`;
}
