import type { CorsOptions } from '@nestjs/common/interfaces/external/cors-options.interface';

import { RATE_LIMIT_HEADERS } from '@nest-hardening/openapi';

/**
 * CORS for browser clients of the listed origins. Tokens travel in the `Authorization` header, never
 * in cookies, so credentials stay off: a page of another origin can never make the browser send
 * anything it holds. Preflights end here with 204; an origin not listed gets no
 * `Access-Control-Allow-Origin`, so its browser refuses the answer.
 */
export function corsOptions(origins: readonly string[]): CorsOptions {
  return {
    origin: [...origins],
    credentials: false,
    methods: ['GET', 'POST', 'PATCH', 'DELETE'],
    allowedHeaders: ['Authorization', 'Content-Type'],
    // A script may read these only when they are exposed: a client needs them to back off.
    exposedHeaders: ['Retry-After', ...Object.keys(RATE_LIMIT_HEADERS)],
    maxAge: 600,
    preflightContinue: false,
    optionsSuccessStatus: 204,
  };
}
