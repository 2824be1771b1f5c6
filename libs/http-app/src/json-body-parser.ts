import { isUtf8 } from 'node:buffer';

import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';

import { jsonShapeRefusal, MAX_JSON_MEMBERS } from './json-shape';
import { RequestBodyError } from './request-body-error';

/**
 * The one charset a JSON body may declare (or imply: body-parser defaults to it). body-parser
 * lowercases the parameter and removes its quotes, so `charset="UTF-8"` arrives as `utf-8` too.
 */
const UTF8 = 'utf-8';

/** Half of a surrogate pair: what a `\ud800` escape without its partner decodes to. */
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * Parses `application/json` bodies of UTF-8 text only, no deeper and no wider than
 * {@link jsonShapeRefusal} allows, and turns every refusal into a {@link RequestBodyError} that quotes nothing of the body.
 *
 * Any other charset body-parser would decode (utf-16le/be, utf-7, ...) is a 415: the depth check
 * counts bracket bytes, which is only the text's own count in UTF-8, and no client of these APIs
 * needs another charset. The check runs in `verify`, which sees exactly the charset body-parser is
 * about to decode with, after any Content-Encoding has been undone.
 *
 * Bytes that are not UTF-8, and strings (values or member names) holding half a surrogate pair, are
 * a 400: decoding turns either into U+FFFD, so two different passwords would hash as one and a name
 * would be stored altered.
 * A body of any other media type (or none declared) is a 415 rather than no body at all: a PATCH
 * would otherwise succeed without its change.
 */
export function useJsonBodyParser(app: NestExpressApplication, limit: string, maxMembers = MAX_JSON_MEMBERS): void {
  app.useBodyParser('json', {
    limit,
    verify: (_req: unknown, _res: unknown, buf: Buffer, encoding: string | null) => {
      if (encoding !== UTF8) throw new RequestBodyError(415, 'charset.unsupported');
      if (!isUtf8(buf)) throw new RequestBodyError(400, 'entity.parse.failed');
      const refusal = jsonShapeRefusal(buf, undefined, maxMembers);
      if (refusal !== undefined) throw new RequestBodyError(400, refusal);
    },
    // body-parser answers anything thrown here as malformed JSON (400, `entity.parse.failed`).
    // Member names are strings of the body too: an app that keeps a map would store them altered.
    reviver: (key: string, value: unknown) => {
      if ((typeof value === 'string' && LONE_SURROGATE.test(value)) || LONE_SURROGATE.test(key)) {
        throw new RequestBodyError(400, 'entity.parse.failed');
      }
      return value;
    },
  });
  // Right behind the parser, so it sees the parser's errors only: a client's mistake (4xx, with a
  // `type`) is replaced, anything else passes on as it is.
  app.use((error: unknown, _req: Request, _res: Response, next: NextFunction) => {
    next(isRefusedBody(error) ? new RequestBodyError(error.status, error.type) : error);
  });
  // The parser passes over a body it is not declared to read.
  app.use((req: Request, _res: Response, next: NextFunction) => {
    if (req.is('application/json') !== false) return next();
    if (Number(req.headers['content-length']) > 0) return next(new RequestBodyError(415, 'media-type.unsupported'));
    // `Content-Length: 0`, which clients send with an empty POST, is no body; a chunked one may be
    // none either (Node's client sends a body-less POST chunked once it has flushed its headers).
    if (req.headers['transfer-encoding'] !== undefined) return refuseAnyByte(req, next);
    next();
  });
}

/**
 * Reads a chunked body of another type (or none declared) until its first byte, a 415, or its end:
 * one that holds no bytes is no body, and the request goes on.
 */
function refuseAnyByte(req: Request, next: NextFunction): void {
  const settle = (error?: RequestBodyError) => {
    req.off('data', onData).off('end', onEnd).off('close', onClose);
    next(error);
  };
  const onData = (chunk: Buffer) => {
    if (chunk.length > 0) settle(new RequestBodyError(415, 'media-type.unsupported'));
  };
  const onEnd = () => settle();
  // The client left before its body ended: the route must not run as if it had sent none.
  const onClose = () => settle(new RequestBodyError(400, 'request.aborted'));
  req.on('data', onData).once('end', onEnd).once('close', onClose);
}

function isRefusedBody(error: unknown): error is { status: number; type: string } {
  const { status, type } = (error ?? {}) as { status?: unknown; type?: unknown };
  return typeof type === 'string' && typeof status === 'number' && status >= 400 && status < 500;
}
