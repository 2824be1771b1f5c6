import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

import { jsonShapeRefusal, MAX_JSON_MEMBERS } from './json-shape';
import { RequestBodyError } from './request-body-error';

/**
 * The one charset a JSON body may declare (or imply: body-parser defaults to it). body-parser
 * lowercases the parameter and removes its quotes, so `charset="UTF-8"` arrives as `utf-8` too.
 */
const UTF8 = 'utf-8';

/**
 * Parses `application/json` bodies of UTF-8 text only, no deeper and no wider than
 * {@link jsonShapeRefusal} allows, and turns every refusal into a {@link RequestBodyError} that quotes nothing of the body.
 *
 * Any other charset body-parser would decode (utf-16le/be, utf-7, ...) is a 415: the depth check
 * counts bracket bytes, which is only the text's own count in UTF-8, and no client of these APIs
 * needs another charset. The check runs in `verify`, which sees exactly the charset body-parser is
 * about to decode with, after any Content-Encoding has been undone.
 */
export function useJsonBodyParser(app: NestExpressApplication, limit: string, maxMembers = MAX_JSON_MEMBERS): void {
  app.useBodyParser('json', {
    limit,
    verify: (_req: unknown, _res: unknown, buf: Buffer, encoding: string | null) => {
      if (encoding !== UTF8) throw new RequestBodyError(415, 'charset.unsupported');
      const refusal = jsonShapeRefusal(buf, undefined, maxMembers);
      if (refusal !== undefined) throw new RequestBodyError(400, refusal);
    },
  });
  // Right behind the parser, so it sees the parser's errors only: a client's mistake (4xx, with a
  // `type`) is replaced, anything else passes on as it is.
  app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
    next(isRefusedBody(error) ? new RequestBodyError(error.status, error.type) : error);
  });
}

function isRefusedBody(error: unknown): error is { status: number; type: string } {
  const { status, type } = (error ?? {}) as { status?: unknown; type?: unknown };
  return typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500;
}
