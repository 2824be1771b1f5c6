import { Redis } from 'ioredis';

/** Calls per command (`INFO commandstats`), lower-cased names, e.g. `{ evalsha: 120, get: 240 }`. */
export type CommandCounts = Record<string, number>;

/**
 * Reads `INFO commandstats` of the Redis at `url`. Commands run inside Lua scripts are counted
 * too (as GET, INCRBY, ...), so `evalsha` + `eval` is the number of script round trips.
 */
export async function readCommandStats(url: string): Promise<CommandCounts> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    const info = await redis.info('commandstats');
    const counts: CommandCounts = {};
    for (const line of info.split('\n')) {
      const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line.trim());
      if (match) counts[match[1].toLowerCase()] = Number(match[2]);
    }
    return counts;
  } finally {
    redis.disconnect();
  }
}

/** `after - before` per command, without the INFO calls the measurement itself made. */
export function commandDelta(before: CommandCounts, after: CommandCounts): CommandCounts {
  const delta: CommandCounts = {};
  for (const [name, calls] of Object.entries(after)) {
    const diff = calls - (before[name] ?? 0);
    if (diff > 0 && name !== 'info') delta[name] = diff;
  }
  return delta;
}
