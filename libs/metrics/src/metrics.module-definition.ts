import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface MetricsModuleOptions {
  /** The app's name, e.g. `api-gateway` (reported as `app_info{service}`). */
  service: string;
  /**
   * When set, `GET /metrics` needs `Authorization: Bearer <token>` (compared in constant time);
   * when unset it is public. Keep it off the public internet either way.
   */
  token?: string;
  /**
   * When true and no `token` is set, `GET /metrics` is not served at all (404, like any unknown
   * path); the series are still collected. Apps set it in production. Default false.
   */
  requireToken?: boolean;
  /** Node.js process metrics (`process_*`, `nodejs_*`) from prom-client. Default true. */
  defaultMetrics?: boolean;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: METRICS_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<MetricsModuleOptions>({ moduleName: 'Metrics' }).setClassMethodName('forRoot').build();
