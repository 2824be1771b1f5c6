import { Pool } from 'undici';

export interface UpstreamPoolOptions {
  /** Most connections open to this upstream at once (UPSTREAM_MAX_SOCKETS); requests beyond it wait for a free one. */
  connections: number;
  /** How long an idle pooled connection is kept; shorter than the upstream's keep-alive timeout. */
  idleTimeoutMs: number;
  /** An upstream silent this long before its response headers, or between two chunks of its body, has failed. */
  timeoutMs: number;
}

/**
 * The bounded keep-alive pool of one upstream (http: or https:, from the URL). undici's pool is
 * cheaper per request than `node:http` with an Agent. It hands a request to the first idle
 * connection it opened, so the busiest few stay warm and the rest reach the idle timeout and close.
 * A server's `Keep-Alive: timeout=N` hint shortens the idle time (to 2 s before the server would
 * close), never lengthens it past `idleTimeoutMs`. No pipelining: one request per connection at a
 * time, so a connection that dies takes at most one request with it.
 */
export function createUpstreamPool(target: URL, options: UpstreamPoolOptions): Pool {
  return new Pool(target.origin, {
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: options.idleTimeoutMs,
    keepAliveMaxTimeout: options.idleTimeoutMs,
    headersTimeout: options.timeoutMs,
    bodyTimeout: options.timeoutMs,
  });
}
