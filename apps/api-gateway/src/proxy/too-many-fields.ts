import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

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
 * Refuses (431) a request with more header fields than {@link MAX_CLIENT_HEADER_LINES}, before
 * routing (no budget spent). Forwarded, its last lines would be dropped by the service: the
 * gateway's signature and forwarded address (the service would judge it by the gateway's address,
 * as an unsigned request) and its Content-Length or Transfer-Encoding (the body would go unparsed).
 */
export function refuseTooManyHeaderFields(app: INestApplication): void {
  app.use((req: Request, res: Response, next: NextFunction) => {
    // rawHeaders holds name and value of each line, at most about 1,000 lines (Node's own cap).
    if (req.rawHeaders.length <= 2 * MAX_CLIENT_HEADER_LINES) return next();
    res.status(431).json({ statusCode: 431, message: 'Request has too many header fields' });
  });
}
