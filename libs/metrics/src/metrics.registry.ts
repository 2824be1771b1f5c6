import { collectDefaultMetrics, Gauge, Registry } from 'prom-client';

import type { MetricsModuleOptions } from './metrics.module-definition';

/**
 * The app's own prom-client registry (never the global one: tests run several apps in one
 * process, and each must report only its own traffic). Injected by its class, `Registry`.
 */
export function createMetricsRegistry(options: MetricsModuleOptions): Registry {
  const registry = new Registry();
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  new Gauge({
    name: 'app_info',
    help: 'Constant 1, labelled with the name of the app.',
    labelNames: ['service'],
    registers: [registry],
  }).set({ service: options.service }, 1);
  return registry;
}
