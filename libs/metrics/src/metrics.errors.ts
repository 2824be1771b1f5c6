import { DomainError } from '@nest-hardening/errors';

/** The scrape carried no metrics token, or the wrong one. */
export class InvalidMetricsTokenError extends DomainError {
  readonly kind = 'unauthenticated';
  constructor() {
    super('invalid_metrics_token', 'Unauthorized');
  }
}
