import { Catch, HttpException, HttpStatus, Logger, Optional, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Response } from 'express';

import { DependencyUnavailableError, failureReason } from './dependency-unavailable.error';
import { DomainError } from './domain-error';

/** Answers to body-parser's refusals by error type; any other type is a malformed body. */
const BODY_ERROR_MESSAGES = new Map<string | undefined, string>([
  ['entity.too.large', 'Request body too large'],
  ['charset.unsupported', 'Request body must be JSON encoded as UTF-8'],
  ['encoding.unsupported', 'Unsupported Content-Encoding'],
  ['media-type.unsupported', 'Request body must be application/json'],
]);

/** Receives the unexpected errors (bugs) the filter answered with a 500, e.g. to send them to Sentry. */
export type UnexpectedErrorReporter = (error: unknown) => void;

/**
 * The single mapping from errors to HTTP responses. Bodies are `{statusCode, message, error?}`
 * and never carry a stack trace; unexpected errors are logged, handed to `reportUnexpected` when
 * given (`SecurityEvents.captureException` sends them to Sentry) and answered with a generic 500.
 */
@Catch()
export class DomainErrorFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  // @Optional so that `{ provide: APP_FILTER, useClass: DomainErrorFilter }` works without a reporter.
  constructor(@Optional() private readonly reportUnexpected?: UnexpectedErrorReporter) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    if (res.headersSent) return;

    if (exception instanceof DomainError) {
      if (exception instanceof DependencyUnavailableError) {
        this.logger.warn(`${exception.dependency} unavailable: ${failureReason(exception)}`);
      }
      if (exception.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(exception.retryAfterSeconds));
      res.status(exception.getStatus()).json(exception.getResponse());
      return;
    }

    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      res.status(status).json(typeof response === 'string' ? { statusCode: status, message: response } : response);
      return;
    }

    // Body-parser errors (malformed JSON, too large, bad charset) carry their own 4xx status. The
    // answer is one of a few fixed sentences: a parser's message may quote the body.
    const bodyError = exception as { status?: number; type?: string; expose?: boolean };
    if (typeof bodyError?.status === 'number' && bodyError.status >= 400 && bodyError.status < 500) {
      const message = BODY_ERROR_MESSAGES.get(bodyError.type) ?? 'Malformed request body';
      res.status(bodyError.status).json({ statusCode: bodyError.status, message });
      return;
    }

    this.logger.error(
      exception instanceof Error ? `${exception.name}: ${exception.message}` : 'unknown error',
      exception instanceof Error ? exception.stack : undefined,
    );
    this.reportUnexpected?.(exception);
    res.status(HttpStatus.INTERNAL_SERVER_ERROR).json({ statusCode: 500, message: 'Internal server error' });
  }
}
