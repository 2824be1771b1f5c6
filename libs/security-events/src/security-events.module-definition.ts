import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface SecurityEventsModuleOptions {
  /** Service name attached to every event (`auth-service`, `api-gateway`, ...). */
  service: string;
  /**
   * Secret for pseudonymising identifiers (emails, IPs) before they leave the process.
   * Sentry and other external sinks only ever see `HMAC-SHA256(key, value)`, truncated.
   */
  pseudonymKey: string;
  /**
   * When set, events (and unexpected errors, via `captureException`) are also sent to Sentry with
   * `sendDefaultPii: false`. Needs the optional peer dependency `@sentry/nestjs`.
   */
  sentryDsn?: string;
  environment?: string;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: SECURITY_EVENTS_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<SecurityEventsModuleOptions>({ moduleName: 'SecurityEvents' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
