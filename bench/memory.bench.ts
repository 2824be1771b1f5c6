/**
 * Redis memory per unit of state, measured on the real Redis: bytes per session (its hash plus its
 * share of the user's index) with a 120-character browser user agent, per rate-limit tracker
 * (one general-policy window), and per lockout subject (one failed login: pair, account and
 * address keys). Sums `MEMORY USAGE` over every key the unit created, divided by the units.
 *
 *   npm run bench:memory        REDIS_URL (default redis://127.0.0.1:6379), BENCH_UNITS (default 2000)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { resolveLockoutOptions } from '../libs/lockout/src/lockout-options.interface';
import { LockoutStore } from '../libs/lockout/src/lockout.store';
import { createRedisClient, type RedisClient } from '@lib/redis';
import { SessionFingerprinter, SessionStore } from '@lib/sessions';
import { RedisRateLimitStore } from '@lib/throttling';

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const UNITS = Number(process.env.BENCH_UNITS ?? 2000);
/** 120 characters: a current desktop Chrome. */
const USER_AGENT = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';

async function bytesUnder(raw: Redis, prefix: string): Promise<{ bytes: number; keys: number }> {
  let cursor = '0';
  let bytes = 0;
  let keys = 0;
  do {
    const [next, batch] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      bytes += Number(await raw.memory('USAGE', key, 'SAMPLES', 0));
      keys++;
    }
  } while (cursor !== '0');
  return { bytes, keys };
}

async function measure(label: string, raw: Redis, fill: (redis: RedisClient, prefix: string) => Promise<void>): Promise<string> {
  const prefix = `bench:mem:${label}:${randomBytes(4).toString('hex')}:`;
  const redis = createRedisClient({ url: URL, keyPrefix: prefix, commandTimeoutMs: 5000, connectionName: 'bench-memory' });
  await redis.connect();
  try {
    await fill(redis, prefix);
    const { bytes, keys } = await bytesUnder(raw, prefix);
    return `| ${label} | ${Math.round(bytes / UNITS)} | ${(keys / UNITS).toFixed(2)} |`;
  } finally {
    const stale = await raw.keys(`${prefix}*`);
    if (stale.length) await raw.del(...stale);
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const raw = new Redis(URL);
  const rows: string[] = [];
  const fingerprinter = new SessionFingerprinter('a fingerprint secret of 32+ characters', 24, 64);

  rows.push(
    await measure('session (120-char user agent)', raw, async (redis, prefix) => {
      const store = new SessionStore(redis, { url: URL, keyPrefix: prefix, commandTimeoutMs: 5000 });
      for (let i = 0; i < UNITS; i++) {
        const client = { ip: `203.0.${(i >> 8) & 255}.${i & 255}`, userAgent: USER_AGENT };
        await store.create({
          userId: randomUUID(),
          role: 'user',
          client,
          fingerprint: fingerprinter.fingerprint(client),
          idleTtlMs: 7 * 24 * 3600 * 1000,
          absoluteTtlMs: 30 * 24 * 3600 * 1000,
          maxSessions: 100,
          authVersion: 0,
        });
      }
    }),
  );
  rows.push(
    await measure('rate-limit tracker (one window)', raw, async (redis) => {
      const store = new RedisRateLimitStore(redis);
      for (let i = 0; i < UNITS; i++) {
        await store.consume([{ policy: 'general', tracker: `ip:198.51.${(i >> 8) & 255}.${i & 255}`, limit: 100, ttlMs: 900_000 }]);
      }
    }),
  );
  rows.push(
    await measure('lockout subject (one failed login)', raw, async (redis) => {
      const store = new LockoutStore(redis, resolveLockoutOptions({ keySecret: 'a lockout key secret of 32+ chars' }));
      for (let i = 0; i < UNITS; i++) {
        const outcome = await store.reserve(`user${i}@example.com`, `192.0.${(i >> 8) & 255}.${i & 255}`);
        if (outcome.allowed) await store.confirmFailure(outcome.reservation);
      }
    }),
  );
  raw.disconnect();
  process.stdout.write(
    [`Redis memory per unit (${UNITS} units, MEMORY USAGE summed over the unit's keys)`, '| unit | bytes | keys |', '|---|---|---|', ...rows, ''].join('\n'),
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
