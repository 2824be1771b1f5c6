/** Start-up could not reach Redis. The message names the (password-free) URL and how to start one. */
export class RedisUnavailableError extends Error {
  constructor(target: string, cause: unknown) {
    super(
      `Redis is not reachable at ${target} (${cause instanceof Error ? cause.message : String(cause)}). ` +
        'Start it with `docker compose up -d redis` or set REDIS_URL.',
    );
    this.name = 'RedisUnavailableError';
  }
}
