import { Module, type DynamicModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { Registry } from 'prom-client';

import { HttpMetricsMiddleware } from './http-metrics.middleware';
import { MetricsTokenGuard } from './metrics-token.guard';
import { MetricsController } from './metrics.controller';
import { ConfigurableModuleClass, METRICS_MODULE_OPTIONS, type MetricsModuleOptions } from './metrics.module-definition';
import { createMetricsRegistry } from './metrics.registry';
import { RedisMetricsCollector } from './redis-metrics.collector';
import { SecurityMetricsCollector } from './security-metrics.collector';

/**
 * `GET /metrics` (Prometheus text format) with HTTP request counts and latency by route pattern,
 * rate-limit decisions, refresh outcomes, lockouts, Redis script latency and errors, and Node.js
 * process metrics, in a registry of the app's own. Reads the counters of the libraries the app
 * runs (none of them depends on this one). Import it once per app; with a global prefix, exclude
 * `metrics` from it.
 *
 * @example
 * MetricsModule.forRoot({ service: 'api-gateway', token: config.METRICS_TOKEN, requireToken: production })
 */
@Module({
  providers: [
    { provide: Registry, inject: [METRICS_MODULE_OPTIONS], useFactory: (options: MetricsModuleOptions) => createMetricsRegistry(options) },
    HttpMetricsMiddleware,
    MetricsTokenGuard,
    SecurityMetricsCollector,
    RedisMetricsCollector,
  ],
  exports: [Registry],
})
export class MetricsModule extends ConfigurableModuleClass {
  static forRoot(options: MetricsModuleOptions): DynamicModule {
    const module = super.forRoot(options);
    // Production without a token: no route at all, so the series never reach a public port by default.
    return options.requireToken && !options.token ? module : { ...module, controllers: [MetricsController] };
  }

  constructor(adapterHost: HttpAdapterHost, httpMetrics: HttpMetricsMiddleware) {
    super();
    // Mounted on Express itself rather than through MiddlewareConsumer, which would mount it under
    // the global prefix (`/api`) only, so 404s outside it would go uncounted. It is mounted while
    // the module is instantiated (NestFactory.create), so it precedes the JSON body parser the
    // apps install afterwards: a request the parser rejects (malformed, too large) is still counted.
    adapterHost.httpAdapter.use(httpMetrics.use);
  }
}
