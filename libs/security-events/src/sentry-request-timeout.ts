import * as http from 'node:http';
import * as https from 'node:https';

/**
 * Longest wait for Sentry to answer one envelope. The SDK's requests have no deadline of their own
 * (its agent's `timeout` only closes idle sockets): requests an endpoint never answers would hold
 * its 30 sockets and 64 buffer slots for good, and every later event would be dropped.
 */
export const SENTRY_REQUEST_TIMEOUT_MS = 5_000;

/** `http` or `https` for the DSN, whose requests fail (freeing their socket and buffer slot) when unanswered too long. */
export function sentryHttpModule(dsn: string, timeoutMs = SENTRY_REQUEST_TIMEOUT_MS): Pick<typeof http, 'request'> {
  const module = dsn.startsWith('https:') ? https : http;
  const request = (options: http.RequestOptions, callback?: (res: http.IncomingMessage) => void): http.ClientRequest => {
    const req = module.request(options, callback);
    req.setTimeout(timeoutMs, () => req.destroy(new Error('Sentry did not answer in time')));
    return req;
  };
  return { request: request as typeof http.request };
}
