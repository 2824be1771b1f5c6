import { shownOptionValue } from '@nest-hardening/errors';

import type { RedisModuleOptions } from './redis.module-definition';

/** The longest delay a Node timer takes: a longer command timeout would fire after 1 ms, failing every command. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Refuses, at start-up and naming the option, settings ioredis would take without a word: an empty
 * or unset url connects to whatever Redis listens on localhost:6379, an unset or 0 timeout disables
 * the timeout (a Redis that stops answering then stalls every request instead of failing it), and
 * NaN or a negative timeout fails the start as "Redis is not reachable" when Redis is fine.
 */
export function checkRedisOptions(options: RedisModuleOptions): void {
  const problems: string[] = [];
  const { url, clusterNodes, keyPrefix, commandTimeoutMs } = options as Partial<Record<keyof RedisModuleOptions, unknown>>;
  if (clusterNodes !== undefined) {
    const seeds = Array.isArray(clusterNodes) ? (clusterNodes as unknown[]) : [clusterNodes];
    // Parsed as the client factory parses them.
    const bad = seeds.filter((seed) => {
      const [host, port] = typeof seed === 'string' ? seed.split(':') : [];
      return !host || !(Number.isInteger(Number(port)) && Number(port) >= 1 && Number(port) <= 65_535);
    });
    if (!Array.isArray(clusterNodes) || bad.length > 0)
      problems.push(`clusterNodes must be host:port seeds (got ${shownOptionValue(bad[0])})`);
  }
  // Shown only when empty or not a string: a password in a url never reaches the message.
  if (!(Array.isArray(clusterNodes) && clusterNodes.length > 0) && !(typeof url === 'string' && url !== '')) {
    problems.push(`url must be a redis:// or rediss:// url, or clusterNodes set (got ${shownOptionValue(url)})`);
  }
  if (typeof keyPrefix !== 'string') problems.push(`keyPrefix must be a string, '' for none (got ${shownOptionValue(keyPrefix)})`);
  if (!(Number.isSafeInteger(commandTimeoutMs) && (commandTimeoutMs as number) >= 1 && (commandTimeoutMs as number) <= MAX_TIMER_MS)) {
    problems.push(
      `commandTimeoutMs must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS} (got ${shownOptionValue(commandTimeoutMs)})`,
    );
  }
  if (problems.length > 0) throw new Error(`RedisModule: ${problems.join('; ')}`);
}
