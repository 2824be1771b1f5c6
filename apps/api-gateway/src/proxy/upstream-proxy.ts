import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';

import { errors, type Dispatcher, type Pool } from 'undici';

import { mergeRelayedRateLimitHeaders, RateLimitExceededError } from '@nest-hardening/rate-limit';

import { CLIENT_HEADERS_DROPPED, forwardedHeaders } from './forwarded-headers';
import { endToEndHeaders } from './hop-by-hop-headers';
import { upstreamPath } from './upstream-path';
import { createUpstreamPool, type UpstreamPoolOptions } from './upstream-pool';

export interface UpstreamProxyOptions extends UpstreamPoolOptions {
  /**
   * How long an answer may stay paused for a client that reads none of it, then the client's
   * response is cut off and the pooled connection freed (undici's bodyTimeout does not run while
   * paused). Far longer than `timeoutMs`: a slow reader gets no 'drain' until about a third of the
   * kernel's send buffer has gone, which at 100 KB/s takes seconds. Default 60 s.
   */
  clientStallMs?: number;
}

/** Methods a client may repeat without changing the outcome (RFC 9110 §9.2.2): safe to send twice. */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);
/**
 * Errors of a connection that closed under a request (typically a pooled one the upstream closed
 * just as it was reused). undici sends the request again only when it had not been written yet.
 */
const CONNECTION_LOST = new Set(['UND_ERR_SOCKET', 'ECONNRESET', 'EPIPE']);
/** undici's messages for a socket error raised on an answer it could not use (the request had arrived). */
const ANSWERED = new Set(['bad response', 'bad upgrade']);
/**
 * Request fields not sent on: those the gateway decides, and `Expect` (the gateway's own server has
 * already answered a `100-continue`; undici refuses the field).
 */
const DROPPED: ReadonlySet<string> = new Set([...CLIENT_HEADERS_DROPPED, 'expect', 'proxy-authorization']);
/** A reason phrase Node will write (`writeHead` throws on anything else, e.g. obs-text undici decoded as UTF-8). */
const SAFE_REASON = /^[\t\x20-\x7e]*$/;

/**
 * A streaming reverse proxy to one upstream service over a bounded keep-alive pool (undici): request
 * and response bodies stream in both directions, never buffered; hop-by-hop fields are dropped both
 * ways, so client and gateway keep their own connection and the gateway keeps its pooled one.
 * `/api` is stripped from the path; the headers the gateway decides ({@link forwardedHeaders}) replace
 * whatever the client sent. A service that limits the request too sends its own rate-limit headers;
 * they are merged with the gateway's, not copied over them.
 */
export class UpstreamProxy {
  private readonly pool: Pool;
  private readonly host: string;
  private readonly queueTimeoutMs: number;
  private readonly clientStallMs: number;

  constructor(target: string, options: UpstreamProxyOptions) {
    const url = new URL(target);
    this.pool = createUpstreamPool(url, options);
    this.host = url.host;
    this.queueTimeoutMs = options.timeoutMs;
    this.clientStallMs = options.clientStallMs ?? 60_000;
  }

  forward(req: IncomingMessage, res: ServerResponse): void {
    // The client left while the guards ran: no one would read the answer, and with the response's
    // 'close' already past, the upstream would stay paused on a 'drain' that never comes.
    if (res.destroyed) return;
    // undici frames a body of unknown length chunked, one of known length with Content-Length.
    if (!hasBody(req)) return this.dispatch(req, res, null);
    whenBodyStarts(req, res, () => this.dispatch(req, res, req));
  }

  /** Closes the pool's connections once the requests under way have been answered. */
  close(): Promise<void> {
    return this.pool.close();
  }

  private dispatch(req: IncomingMessage, res: ServerResponse, body: IncomingMessage | null): void {
    // One path for the request line and the signature, so the service verifies what it received.
    const path = upstreamPath((req as IncomingMessage & { originalUrl?: string }).originalUrl ?? req.url ?? '/');
    const request: Dispatcher.DispatchOptions = { method: req.method ?? 'GET', path, headers: this.upstreamHeaders(req, path), body };
    // A body that has started to stream cannot be sent again, so only requests without one are retried.
    new Exchange(this.pool, request, res, body === null && IDEMPOTENT.has(request.method), this.queueTimeoutMs, this.clientStallMs).send();
  }

  /** The client's end-to-end headers, minus those only the gateway may set, plus the gateway's own. */
  private upstreamHeaders(req: IncomingMessage, path: string): IncomingHttpHeaders {
    const headers = endToEndHeaders(req.headers, DROPPED);
    Object.assign(headers, forwardedHeaders(req, path));
    headers.host = this.host;
    return headers;
  }
}

/**
 * One proxied request: undici's dispatch handler, writing the upstream's answer into the client's
 * response (no intermediate stream) and pausing the upstream while the client's socket is full.
 */
class Exchange implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | undefined;
  /** The upstream's status and headers have been sent to the client. */
  private relayed = false;
  /** The gateway answered in the upstream's place (see answerOwnRefusal): the upstream's body is read and dropped. */
  private replaced = false;
  private clientGone = false;
  /** Answered 503 after waiting too long for a pooled connection: sent nowhere once one frees. */
  private expired = false;
  private queueTimer: NodeJS.Timeout | undefined;
  private onDrain: (() => void) | undefined;
  /** Runs while the upstream is paused for a client that does not read: undici's bodyTimeout does not. */
  private stallTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: Pool,
    private readonly request: Dispatcher.DispatchOptions,
    private readonly res: ServerResponse,
    /** Whether a lost connection may cost one more try; cleared once it has. */
    private retryable: boolean,
    /** Longest wait for a pooled connection when every one is busy. */
    private readonly queueTimeoutMs: number,
    /** Longest pause of the answer for a client that reads none of it. */
    private readonly clientStallMs: number,
  ) {
    res.once('close', () => {
      clearTimeout(this.queueTimer);
      clearTimeout(this.stallTimer);
      // The client went away first: stop the upstream work, and the connection is not returned to
      // the pool in the middle of an answer (aborting destroys it).
      if (res.writableFinished) return;
      this.clientGone = true;
      this.controller?.abort(new errors.RequestAbortedError('client went away'));
    });
  }

  send(): void {
    // A retry starts over: the controller of the try that failed answers for nothing now.
    this.controller = undefined;
    // false: every pooled connection is busy, and this request may wait in the pool's queue, where
    // undici's timeouts do not run (requests that trickle their bodies can hold every connection).
    // Only then is a deadline set, so the common path pays no timer.
    if (this.pool.dispatch(this.request, this) || this.controller) return;
    this.queueTimer = setTimeout(() => {
      if (this.controller || this.res.headersSent) return;
      this.expired = true;
      answerFailure(this.res, 503);
    }, this.queueTimeoutMs);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    clearTimeout(this.queueTimer);
    // Waited in the pool's queue while the client left, or until it was answered 503.
    if (this.clientGone || this.expired) controller.abort(new errors.RequestAbortedError('not waited for'));
  }

  onResponseStart(
    controller: Dispatcher.DispatchController,
    statusCode: number,
    headers: IncomingHttpHeaders,
    statusMessage?: string,
  ): void {
    // An interim answer (103 Early Hints): the final one follows.
    if (statusCode < 200) return;
    const res = this.res;
    this.relayed = true;
    // Before the service's headers are copied: a budget header removed here keeps the gateway's value.
    const ownRetryAfter = mergeRelayedRateLimitHeaders((name) => res.getHeader(name), headers, statusCode);
    if (ownRetryAfter !== undefined) return this.answerOwnRefusal(headers, ownRetryAfter);
    const relayed = endToEndHeaders(headers);
    for (const name in relayed) res.setHeader(name, relayed[name] as string | string[]);
    res.writeHead(statusCode, statusMessage && SAFE_REASON.test(statusMessage) ? statusMessage : undefined);
    // A body of unknown length is a stream (an early answer to an upload, a stream of events): its
    // headers go out now. A body of known length carries them in its first packet.
    if (headers['content-length'] === undefined) res.flushHeaders();
  }

  /**
   * A service's 429 that the gateway's own spent budget outlasts: answered as the gateway's refusal,
   * whose body repeats the later `Retry-After`. The service's body is still read (and dropped), so
   * its pooled connection stays usable.
   */
  private answerOwnRefusal(headers: IncomingHttpHeaders, retryAfterSeconds: number): void {
    this.replaced = true;
    const refusal = new RateLimitExceededError(retryAfterSeconds);
    const body = JSON.stringify(refusal.getResponse());
    const policies = headers['ratelimit-policy'];
    if (policies !== undefined) this.res.setHeader('ratelimit-policy', policies);
    this.res.setHeader('retry-after', String(retryAfterSeconds));
    this.res.writeHead(refusal.getStatus(), {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    this.res.end(body);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.replaced) return;
    if (this.res.write(chunk)) return;
    // The client reads slower than the service answers: hold the upstream until its socket drains.
    controller.pause();
    this.onDrain ??= () => {
      clearTimeout(this.stallTimer);
      this.controller?.resume();
    };
    this.res.once('drain', this.onDrain);
    // A client that stops reading would hold the pooled connection for good (undici's bodyTimeout
    // does not run while the response is paused): give it up after clientStallMs.
    this.stallTimer = setTimeout(() => this.res.destroy(), this.clientStallMs);
  }

  onResponseEnd(): void {
    if (!this.replaced) this.res.end();
  }

  onResponseError(controller: Dispatcher.DispatchController | undefined, error: Error & { code?: string }): void {
    // The client has its whole answer already, or nobody is waiting for one.
    if (this.clientGone || this.expired || this.replaced) return;
    // The service broke off mid-body: the client must see a broken response, not a short one.
    if (this.relayed) {
      this.res.destroy();
      return;
    }
    // Not a byte of the answer arrived (and no body went out): the request can be sent once more.
    // undici reports an answer it refuses (an unsolicited 1xx, a bad upgrade) as a lost socket too,
    // but the service did receive the request: never sent again.
    if (this.retryable && CONNECTION_LOST.has(error.code ?? '') && !ANSWERED.has(error.message)) {
      this.retryable = false;
      // After undici has finished with the connection that failed.
      queueMicrotask(() => this.send());
      return;
    }
    answerFailure(this.res, error.code === 'UND_ERR_HEADERS_TIMEOUT' ? 504 : 502);
  }
}

const FAILURES = {
  502: { message: 'Upstream unavailable', headers: {} },
  503: { message: 'Upstream busy', headers: { 'retry-after': '1' } },
  504: { message: 'Upstream timed out', headers: {} },
};

function answerFailure(res: ServerResponse, status: keyof typeof FAILURES): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { message, headers } = FAILURES[status];
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify({ statusCode: status, message }));
}

/**
 * Runs `start` once the first bytes of the body have arrived (at once if they have, or the whole
 * body has), or never if the client leaves first. undici writes the request head together with the
 * body's first chunk: signed any earlier, the head would reach the service as late as the client
 * chose, its signature past the service's max age, and the client judged by the gateway's address.
 */
function whenBodyStarts(req: IncomingMessage, res: ServerResponse, start: () => void): void {
  if (req.readableLength > 0 || req.complete) return start();
  const begin = () => {
    res.off('close', abandon);
    start();
  };
  const abandon = () => req.off('readable', begin);
  // A 'readable' listener only peeks: once it is removed, the stream flows again for undici's reader.
  req.once('readable', begin);
  res.once('close', abandon);
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}
