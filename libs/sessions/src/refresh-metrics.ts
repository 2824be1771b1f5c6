import { Injectable } from '@nestjs/common';

import type { RotationOutcome } from './session.store';

/** What happened to a presented refresh token: a rotation outcome, or `malformed` (not a token we issued). */
export type RefreshMetricsOutcome = RotationOutcome | 'malformed';

/**
 * Process-local counters of refresh outcomes for the apps' metrics endpoint. Plain numbers:
 * incrementing them costs nothing on the request path.
 */
@Injectable()
export class RefreshMetrics {
  readonly outcomes: Record<RefreshMetricsOutcome, number> = {
    rotated: 0,
    grace: 0,
    reuse: 0,
    fingerprint: 0,
    invalid: 0,
    malformed: 0,
  };

  snapshot(): Readonly<Record<RefreshMetricsOutcome, number>> {
    return { ...this.outcomes };
  }
}
