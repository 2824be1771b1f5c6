/** Start-up could not reach Redis. The message names the (password-free) URL and how to start one. */
export class RedisUnavailableError extends Error {
  /** `connectionError`: what the connection itself reported, when it says more than `cause`. */
  constructor(target: string, cause: unknown, connectionError?: Error) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    const detail = connectionError && connectionError.message !== reason ? `: ${connectionError.message}` : '';
    super(`Redis is not reachable at ${target} (${reason}${detail}). Start it with \`docker compose up -d redis\` or set REDIS_URL.`);
    this.name = 'RedisUnavailableError';
  }
}
