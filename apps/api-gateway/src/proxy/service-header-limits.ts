import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

import { upstreamPath } from './upstream-path';

/**
 * Header lines a service reads of a request: Node's HTTP server keeps the first 1,000 (its parser's
 * default `maxHeaderPairs`) and silently drops the others, while its parser still frames the body
 * by them. The services run with that default.
 */
export const SERVICE_HEADER_LINES = 1000;
/**
 * Lines a forwarded request may have beyond the client's own: Host, Connection, X-Forwarded-For,
 * X-Forwarded-Proto, X-Gateway-Signature, and Content-Length or Transfer-Encoding. undici writes the
 * client's fields first, the gateway's after them and the framing field last.
 */
const GATEWAY_HEADER_LINES = 6;
/** The most header fields a client request may have for the service to read every field the gateway adds. */
export const MAX_CLIENT_HEADER_LINES = SERVICE_HEADER_LINES - GATEWAY_HEADER_LINES;

/**
 * Node's default `maxHeaderSize`, which the services run with: the request target and every field
 * name and value, counted together, must stay below it, or the whole request is refused (431).
 */
export const SERVICE_HEADER_BYTES = 16_384;
/**
 * Bytes the gateway's fields may add to that count, at most: Host (the upstream's, up to 4 + 259),
 * Connection (20), X-Forwarded-For (15 + 45), X-Forwarded-Proto (22), X-Gateway-Signature (83) and
 * Content-Length or Transfer-Encoding (30).
 */
const GATEWAY_HEADER_BYTES = 512;

/**
 * The count a service's parser holds against `maxHeaderSize` for the request as the gateway forwards
 * it: the target it sends (an absolute-form one re-read by url.parse, which percent-encodes `{`, `"`
 * and the like) and each field as Node parsed it, a repeated field's lines joined into one value
 * (`a: 1, 1`: two bytes more per line than the name saved). One byte per character: undici writes latin1.
 */
function forwardedHeaderBytes(req: Request): number {
  let bytes = upstreamPath(req.originalUrl).length;
  for (const name in req.headers) {
    const value = req.headers[name];
    // Only set-cookie stays an array, sent on as one line per value.
    if (Array.isArray(value)) for (const line of value) bytes += name.length + line.length;
    else if (value !== undefined) bytes += name.length + value.length;
  }
  return bytes;
}

/**
 * Refuses (431), before routing (no budget spent), a request the service could not read whole once
 * the gateway has added its fields: more header fields than {@link MAX_CLIENT_HEADER_LINES} (the
 * service would drop the last lines: the gateway's signature and forwarded address, and the body's
 * framing), or headers that would reach {@link SERVICE_HEADER_BYTES} (the service would refuse the
 * request and close the connection under the body the gateway is still sending: a 502 for the client).
 */
export function refuseHeadersServicesCannotRead(app: INestApplication): void {
  app.use((req: Request, res: Response, next: NextFunction) => {
    // rawHeaders holds name and value of each line, at most about 1,000 lines (Node's own cap).
    if (req.rawHeaders.length > 2 * MAX_CLIENT_HEADER_LINES) {
      res.status(431).json({ statusCode: 431, message: 'Request has too many header fields' });
      return;
    }
    if (forwardedHeaderBytes(req) + GATEWAY_HEADER_BYTES >= SERVICE_HEADER_BYTES) {
      res.status(431).json({ statusCode: 431, message: 'Request header fields too large' });
      return;
    }
    next();
  });
}
