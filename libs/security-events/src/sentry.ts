import * as Sentry from '@sentry/nestjs';

/**
 * Initialises the official Sentry SDK once per process. Personal data is never sent by default
 * (`sendDefaultPii: false`), request bodies and cookies are stripped, and no tracing is enabled.
 */
export function initSentry(dsn: string, service: string, environment?: string): void {
  if (Sentry.getClient()) return;
  Sentry.init({
    dsn,
    environment,
    serverName: service,
    sendDefaultPii: false,
    tracesSampleRate: 0,
    defaultIntegrations: false,
    beforeSend(event) {
      if (event.request) {
        delete event.request.data;
        delete event.request.cookies;
        if (event.request.headers) {
          delete event.request.headers.authorization;
          delete event.request.headers.cookie;
        }
      }
      return event;
    },
  });
}

export { Sentry };
