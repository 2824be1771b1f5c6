import type { INestApplication } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';

/** Every spelling below needs one of these characters; most requests have none. */
const MAY_BE_AMBIGUOUS = /[.%\\]/;
/** `scheme://authority` of an absolute-form target (RFC 9112 §3.2.2); the rest is the path and query. */
const ABSOLUTE_FORM_PREFIX = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i;
/**
 * A `.` or `..` segment, written out or percent-encoded (`%2e`, `.%2E`, ...). A segment also ends at
 * `#` (RFC 3986 §3.3): Express routes `/api/profile/..#` as `/api/profile/..`, WHATWG URL as `/api/`.
 */
const DOT_SEGMENT = /(?:^|\/)(?:\.|%2e){1,2}(?:[/#]|$)/i;
/** A backslash or an encoded slash or backslash: a separator to some parsers, a character to others. */
const AMBIGUOUS_SEPARATOR = /\\|%2f|%5c/i;

/** Whether the path of `target` reads differently to a parser that resolves dot segments and separators. */
export function isAmbiguousPath(target: string): boolean {
  // Runs on every request the gateway serves: the common one is settled by one scan.
  if (!MAY_BE_AMBIGUOUS.test(target)) return false;
  const path = target.replace(ABSOLUTE_FORM_PREFIX, '').split('?', 1)[0];
  return DOT_SEGMENT.test(path) || AMBIGUOUS_SEPARATOR.test(path);
}

/**
 * Refuses (400) a request whose path has dot segments or ambiguous separators, before routing.
 * The gateway picks a route, its guards and its budgets on the path as Express reads it; a parser
 * downstream (WHATWG URL, a service behind a normalising proxy) may resolve `/api/me/../auth/login`
 * to a route the gateway never classified. No route of this API needs such a path.
 */
export function refuseAmbiguousPaths(app: INestApplication): void {
  app.use((req: Request, res: Response, next: NextFunction) => {
    if (!isAmbiguousPath(req.url)) return next();
    res.status(400).json({ statusCode: 400, message: 'Request path with dot segments or encoded separators' });
  });
}
