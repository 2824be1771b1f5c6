import { createHash } from 'node:crypto';

import type { RedisClient } from './redis-client.type';
import { isReplyError, redisFailure, replyCode } from './redis-failure';

/**
 * Told about every script call made on one client: its name, how long it took and the error, if
 * any. Runs on the hot path of every request: keep it to a few counter increments.
 */
export type RedisScriptObserver = (script: string, durationSeconds: number, error: unknown) => void;

// Per client, so that several apps in one process (tests) each see only their own calls.
const observers = new WeakMap<RedisClient, RedisScriptObserver>();

/**
 * Reports every {@link RedisScript} call made on `client` to `observer` (metrics); `undefined`
 * stops the reports. One observer per client: a second call replaces the first.
 */
export function observeRedisScripts(client: RedisClient, observer: RedisScriptObserver | undefined): void {
  if (observer) observers.set(client, observer);
  else observers.delete(client);
}

/**
 * A Lua script run with EVALSHA. The SHA is computed locally, so the common path is a single
 * EVALSHA round trip; only a `NOSCRIPT` reply (Redis restarted or SCRIPT FLUSH, or a cluster node
 * that has not seen the script yet) falls back to one EVAL, which also caches the script again.
 * No other error is retried: a retried write could be applied twice. A failure that means Redis is
 * unavailable is raised as a `DependencyUnavailableError` (see {@link redisFailure}).
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
    const observer = observers.get(client);
    if (!observer) return this.call<T>(client, keys, args);
    const started = performance.now();
    let failure: unknown;
    try {
      return await this.call<T>(client, keys, args);
    } catch (error) {
      failure = error ?? new Error('unknown Redis error');
      throw error;
    } finally {
      try {
        observer(this.name, (performance.now() - started) / 1000, failure);
      } catch {
        // A broken observer must never turn a Redis answer into an error.
      }
    }
  }

  private async call<T>(client: RedisClient, keys: readonly string[], args: readonly (string | number)[]): Promise<T> {
    try {
      return (await client.evalsha(this.sha, keys.length, ...keys, ...args)) as T;
    } catch (error) {
      if (!isReplyError(error) || replyCode(error) !== 'NOSCRIPT') throw redisFailure(error);
    }
    try {
      return (await client.eval(this.lua, keys.length, ...keys, ...args)) as T;
    } catch (error) {
      throw redisFailure(error);
    }
  }
}
