import { failureReason } from '@nest-hardening/errors';

/** Start-up could not reach Redis. The message names the (password-free) URL and how to start one. */
export class RedisUnavailableError extends Error {
  /** `connectionError`: what the connection itself reported, when it says more than `cause`. */
  constructor(target: string, cause: unknown, connectionError?: Error) {
    const reason = failureReason(cause);
    const detail = connectionError && failureReason(connectionError) !== reason ? `: ${failureReason(connectionError)}` : '';
    super(`Redis is not reachable at ${target} (${reason}${detail}). Start it with \`docker compose up -d redis\` or set REDIS_URL.`);
    this.name = 'RedisUnavailableError';
  }
}
