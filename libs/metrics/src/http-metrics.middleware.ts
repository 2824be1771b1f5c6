import { Injectable } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { Counter, Histogram, Registry } from 'prom-client';

/** Label of requests that matched no route (404s, scanners): raw URLs would make unbounded series. */
export const UNMATCHED_ROUTE = 'unmatched';

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/**
 * Counts every HTTP request and its latency by method, route pattern and status. It is an Express
 * middleware listening for the response's `finish`, not an interceptor, so it also sees what never
 * reaches a handler: requests refused by guards (401, 403, 429) and unmatched paths (404). The
 * route is the pattern Express matched (`/api/me/*path`), never the URL.
 */
@Injectable()
export class HttpMetricsMiddleware {
  private readonly requests: Counter<'method' | 'route' | 'status'>;
  private readonly duration: Histogram<'method' | 'route' | 'status'>;

  constructor(registry: Registry) {
    const labelNames = ['method', 'route', 'status'] as const;
    this.requests = new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames,
      registers: [registry],
    });
    this.duration = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time from the request reaching the app to the last byte of its response, by method, route pattern and status.',
      labelNames,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    });
  }

  readonly use = (req: Request, res: Response, next: NextFunction): void => {
    const started = performance.now();
    res.once('finish', () => {
      const labels = { method: METHODS.has(req.method) ? req.method : 'OTHER', route: routePattern(req), status: String(res.statusCode) };
      this.requests.inc(labels);
      this.duration.observe(labels, (performance.now() - started) / 1000);
    });
    next();
  };
}

/** The pattern of the route Express matched for this request, or {@link UNMATCHED_ROUTE}. */
function routePattern(req: Request): string {
  const path = (req as unknown as { route?: { path?: unknown } }).route?.path;
  if (typeof path !== 'string') return UNMATCHED_ROUTE;
  return (req.baseUrl ?? '') + path;
}
