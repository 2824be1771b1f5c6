import { createHash } from 'node:crypto';
import type { RedisClient } from './redis-client.type';

/**
 * A Lua script run with EVALSHA. The SHA is computed locally, so the common path is a single
 * EVALSHA round trip; only a `NOSCRIPT` reply (Redis restarted or SCRIPT FLUSH, or a cluster node
 * that has not seen the script yet) falls back to one EVAL, which also caches the script again.
 * No other error is retried: a retried write could be applied twice.
 */
export class RedisScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly lua: string,
  ) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run<T = unknown>(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    try {
      return (await client.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (error) {
      if (error instanceof Error && error.message.startsWith('NOSCRIPT')) {
        return (await client.eval(this.lua, keys.length, ...keys, ...args)) as T;
      }
      throw error;
    }
  }
}
