import type { IncomingMessage } from 'node:http';
import type { Request } from 'express';
import { clientIp } from '@lib/client-ip';

/** Headers a client must not be able to pass to a service: the gateway decides these. */
export const CLIENT_HEADERS_DROPPED = ['forwarded', 'x-forwarded-host', 'x-forwarded-proto', 'x-forwarded-port', 'x-real-ip'];

/**
 * The headers the gateway sets on every proxied request: the client address it resolved
 * (trusted-proxy aware, replacing anything the client sent) and the protocol.
 */
export function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  return {
    'x-forwarded-for': clientIp(req as Request),
    'x-forwarded-proto': (req as Request).protocol ?? 'http',
  };
}
