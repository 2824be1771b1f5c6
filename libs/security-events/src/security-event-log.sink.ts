import { Logger } from '@nestjs/common';

import type { Pseudonymizer } from './pseudonymizer';
import { securityEventReport } from './security-event-report';
import type { SecurityEventSink } from './security-event-sink.interface';
import type { SecurityEvent } from './security-event.interface';

/**
 * The default sink: one structured log line per event (`log` for info, `warn` above), with
 * personal identifiers pseudonymised. Audit-only events are not logged.
 */
export class LogSecurityEventSink implements SecurityEventSink {
  private readonly logger = new Logger('SecurityEvents');

  constructor(
    private readonly service: string,
    private readonly pseudonymizer: Pseudonymizer,
  ) {}

  record(event: SecurityEvent): void {
    if (event.auditOnly) return;
    const report = securityEventReport(event, this.service, this.pseudonymizer);
    if (event.severity === 'info') this.logger.log(report);
    else this.logger.warn(report);
  }
}
