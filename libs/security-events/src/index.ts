export * from './json-logger';
export * from './kept-text';
export * from './pseudonymizer';
export * from './security-event.interface';
export type * from './security-event-sink.interface';
export * from './security-event-log.sink';
export * from './security-event-report';
export {
  SENTRY_EVENTS_PER_RULE_PER_DAY,
  SENTRY_EVENTS_PER_RULE_PER_MINUTE,
  SentrySecurityEventSink,
  type SentrySinkOptions,
} from './security-event-sentry.sink';
export { SECURITY_EVENTS_MODULE_OPTIONS, type SecurityEventsModuleOptions } from './security-events.module-definition';
export * from './security-events.module';
export * from './security-events.service';
