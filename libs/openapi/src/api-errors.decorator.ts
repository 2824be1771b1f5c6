import { applyDecorators } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, getSchemaPath, type HeaderObject } from '@nestjs/swagger';

import { ErrorDto } from './error.dto';
import { RATE_LIMIT_HEADERS, required, RETRY_AFTER_HEADER } from './rate-limit-headers';

/** The error statuses the apps answer with (the filter in `libs/errors` maps every refusal to one). */
export type ErrorStatus = 400 | 401 | 403 | 404 | 409 | 413 | 415 | 429 | 503;

/** An error status, with a description that says what it means on this route. */
export type ErrorResponse = ErrorStatus | { status: ErrorStatus; description: string };

/** The body limit `configureHttpApp` sets, in the words a client reads. */
export const MAX_BODY_DESCRIPTION = '100 kB';

const DEFAULT_DESCRIPTIONS: Record<ErrorStatus, string> = {
  400: 'the request is malformed or fails validation; `message` lists every problem',
  401: 'no access token, or an invalid, expired or revoked one',
  403: 'authenticated, but not allowed',
  404: "no such resource, or not the caller's (the same answer for both)",
  409: 'conflicts with the current state',
  413: `the body is larger than ${MAX_BODY_DESCRIPTION}`,
  415: 'the body is in a charset other than UTF-8',
  429: 'a rate limit or a lockout refused the request; wait `Retry-After` seconds',
  503: 'a dependency (Redis, Postgres) is unavailable; retry after `Retry-After` seconds',
};

/**
 * Headers an error answer carries. A 429 always has `Retry-After`; the rate-limit headers come with
 * it when a budget (not a lockout) refused. A 503 from a dependency outage has `Retry-After`.
 */
function headersOf(status: ErrorStatus): Record<string, HeaderObject> | undefined {
  if (status === 429) return { ...RATE_LIMIT_HEADERS, 'Retry-After': { ...RETRY_AFTER_HEADER, required: true } };
  if (status === 503) return required({ 'Retry-After': RETRY_AFTER_HEADER });
  return undefined;
}

/**
 * Declares the error answers of a route (or of every route of a controller), each with the one
 * error schema ({@link ErrorDto}) and, for 429 and 503, the `Retry-After` and rate-limit headers.
 *
 * @example
 * @Post('login')
 * @ApiErrors(400, { status: 401, description: 'wrong email or password (one answer for both)' }, 413, 415, 429, 503)
 * login(@Body() body: LoginDto) {}
 */
export function ApiErrors(...responses: ErrorResponse[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ApiExtraModels(ErrorDto),
    ...responses.map((response) => {
      const { status, description } =
        typeof response === 'number' ? { status: response, description: DEFAULT_DESCRIPTIONS[response] } : response;
      return ApiResponse({ status, description, schema: { $ref: getSchemaPath(ErrorDto) }, headers: headersOf(status) });
    }),
  );
}
