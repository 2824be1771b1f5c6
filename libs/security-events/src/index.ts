export * from './json-logger';
export * from './pseudonymizer';
export * from './security-event.interface';
export { SECURITY_EVENTS_MODULE_OPTIONS, type SecurityEventsModuleOptions } from './security-events.module-definition';
export * from './security-events.module';
export * from './security-events.service';
export { initSentry } from './sentry';
export type * from './security-event-sink.interface';
