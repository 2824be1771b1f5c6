/**
 * Redis memory per unit of state, measured on the real Redis: bytes per session (its hash plus its
 * share of the user's index) with a 120-character browser user agent, per rate-limit tracker
 * (one general-policy window), and per lockout subject (one failed login: pair, account and
 * address keys). Sums `MEMORY USAGE` over every key the unit created, divided by the units.
 * Then one account attacked from many new addresses (one failed login each): bytes per failed
 * attempt, the size of the account's bounded address list, and the time of the admin state and
 * unlock scripts at the cap (EVALSHA round trips from this process, median).
 *
 *   npm run bench:memory                 prints the table
 *   npm run bench:memory -- --write      also writes docs/capacity.md from the figures of this run
 * REDIS_URL (default redis://127.0.0.1:6379), BENCH_UNITS (default 2000), BENCH_ATTACK_ADDRESSES (default 10000)
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import Redis from 'ioredis';

import { RedisRateLimitStore } from '@nest-hardening/rate-limit';
import { createRedisClient, type RedisClient } from '@nest-hardening/redis';
import { RedisSessionStore, SessionFingerprinter } from '@nest-hardening/sessions';

import { DEFAULT_LOCKOUT_ADDRESS_CAP, resolveLockoutOptions } from '../libs/lockout/src/lockout-options.interface';
import { lockoutKeys } from '../libs/lockout/src/lockout.keys';
import { RedisLockoutStore } from '../libs/lockout/src/lockout.redis-store';
import { startRedisServer } from '../test/support';

const URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const UNITS = Number(process.env.BENCH_UNITS ?? 2000);
const ATTACK_ADDRESSES = Number(process.env.BENCH_ATTACK_ADDRESSES ?? 10_000);
/** 120 characters: a current desktop Chrome. */
const USER_AGENT =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0';

/** Longer than every window, lock and address list (about 49 hours): state that outlasts an attack by months. */
const LASTING_MS = 3 * 24 * 3600 * 1000;

async function bytesUnder(raw: Redis, prefix: string): Promise<{ bytes: number; keys: number; lastingBytes: number }> {
  let cursor = '0';
  let bytes = 0;
  let keys = 0;
  let lastingBytes = 0;
  do {
    const [next, batch] = await raw.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      const usage = Number(await raw.memory('USAGE', key, 'SAMPLES', 0));
      bytes += usage;
      if ((await raw.pttl(key)) > LASTING_MS) lastingBytes += usage;
      keys++;
    }
  } while (cursor !== '0');
  return { bytes, keys, lastingBytes };
}

interface UnitCost {
  label: string;
  bytes: number;
  keys: number;
  /** Of `bytes`, those in keys that live longer than {@link LASTING_MS}. */
  lastingBytes: number;
}

async function measure(label: string, raw: Redis, fill: (redis: RedisClient, prefix: string) => Promise<void>): Promise<UnitCost> {
  const prefix = `bench:mem:${label}:${randomBytes(4).toString('hex')}:`;
  const redis = createRedisClient({ url: URL, keyPrefix: prefix, commandTimeoutMs: 5000, connectionName: 'bench-memory' });
  await redis.connect();
  try {
    await fill(redis, prefix);
    const { bytes, keys, lastingBytes } = await bytesUnder(raw, prefix);
    return { label, bytes: Math.round(bytes / UNITS), keys: keys / UNITS, lastingBytes: Math.round(lastingBytes / UNITS) };
  } finally {
    const stale = await raw.keys(`${prefix}*`);
    if (stale.length) await raw.del(...stale);
    redis.disconnect();
  }
}

/** One account attacked from many addresses: what its state costs and how long admin scripts take. */
interface AccountAttack {
  addresses: number;
  cap: number;
  bytesPerAttempt: number;
  listedAddresses: number;
  listBytes: number;
  stateMs: number;
  unlockMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

// Time Redis spent in EVALSHA during `run`, from the private server's command statistics.
async function scriptMs(raw: Redis, run: () => Promise<unknown>): Promise<number> {
  const usec = async () => Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(String(await raw.info('commandstats')))?.[1] ?? 0);
  const before = await usec();
  await run();
  return ((await usec()) - before) / 1000;
}

/**
 * Attacks one account from `ATTACK_ADDRESSES` new addresses (one failed login each) on a private
 * Redis (so its command statistics time only these scripts), with an address list capped at `cap`.
 */
async function measureAccountAttack(url: string, cap: number): Promise<AccountAttack> {
  const raw = new Redis(url);
  const prefix = `bench:mem:attack:${randomBytes(4).toString('hex')}:`;
  const redis = createRedisClient({ url, keyPrefix: prefix, commandTimeoutMs: 5000, connectionName: 'bench-memory' });
  await redis.connect();
  // The account ceiling would lock the account after 100 failures; lifted so every address fails once.
  const options = resolveLockoutOptions({ keySecret: 'a lockout key secret of 32+ chars', emailMaxFailures: 1e9, addressCap: cap });
  const store = new RedisLockoutStore(redis, options);
  const email = 'victim@example.com';
  const attack = async (from: number, count: number) => {
    for (let i = from; i < from + count; i++) {
      const outcome = await store.reserve(email, `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);
      if (outcome.allowed) await store.confirmFailure(outcome.reservation);
    }
  };
  try {
    await attack(0, ATTACK_ADDRESSES);
    const { bytes } = await bytesUnder(raw, prefix);
    const { seen } = lockoutKeys(store.subject(email, '0.0.0.0'));
    const listedAddresses = await redis.zcard(seen);
    const listBytes = Number(await raw.memory('USAGE', `${prefix}${seen}`, 'SAMPLES', 0));
    const stateMs: number[] = [];
    for (let i = 0; i < 11; i++) stateMs.push(await scriptMs(raw, () => store.readState(email)));
    const unlockMs: number[] = [];
    for (let round = 0; round < 3; round++) {
      // Refill the list (an unlock empties it) from addresses not seen before.
      if (round > 0) await attack(ATTACK_ADDRESSES * (round + 1), Math.min(cap, ATTACK_ADDRESSES));
      unlockMs.push(await scriptMs(raw, () => store.unlock(email)));
    }
    return {
      addresses: ATTACK_ADDRESSES,
      cap,
      bytesPerAttempt: Math.round(bytes / ATTACK_ADDRESSES),
      listedAddresses,
      listBytes,
      stateMs: median(stateMs),
      unlockMs: median(unlockMs),
    };
  } finally {
    await raw.flushdb();
    raw.disconnect();
    redis.disconnect();
  }
}

async function main(): Promise<void> {
  const raw = new Redis(URL);
  const rows: UnitCost[] = [];
  const fingerprinter = new SessionFingerprinter('a fingerprint secret of 32+ characters', 24, 64);

  rows.push(
    await measure('session (120-char user agent)', raw, async (redis, prefix) => {
      const store = new RedisSessionStore(redis, { url: URL, keyPrefix: prefix, commandTimeoutMs: 5000 });
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
      const store = new RedisLockoutStore(redis, resolveLockoutOptions({ keySecret: 'a lockout key secret of 32+ chars' }));
      for (let i = 0; i < UNITS; i++) {
        const outcome = await store.reserve(`user${i}@example.com`, `192.0.${(i >> 8) & 255}.${i & 255}`);
        if (outcome.allowed) await store.confirmFailure(outcome.reservation);
      }
    }),
  );
  // The same attack with the default cap and with a list that holds every address (what an unbounded list would).
  const server = await startRedisServer();
  const attacks: AccountAttack[] = [];
  try {
    attacks.push(await measureAccountAttack(server.url, DEFAULT_LOCKOUT_ADDRESS_CAP));
    attacks.push(await measureAccountAttack(server.url, ATTACK_ADDRESSES));
  } finally {
    await server.stop();
  }
  const info = await raw.info('server');
  raw.disconnect();
  const table = ['| unit | bytes | keys |', '|---|---|---|', ...rows.map((r) => `| ${r.label} | ${r.bytes} | ${r.keys.toFixed(2)} |`)];
  const attackTable = attackRows(attacks);
  process.stdout.write(
    [
      `Redis memory per unit (${UNITS} units, MEMORY USAGE summed over the unit's keys)`,
      ...table,
      '',
      `One account attacked from ${ATTACK_ADDRESSES} addresses, one failed login each (Redis time of the admin scripts)`,
      ...attackTable,
      '',
    ].join('\n'),
  );
  if (process.argv.includes('--write')) {
    const version = /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
    writeFileSync(join(__dirname, '..', 'docs', 'capacity.md'), capacityReport(rows, table, attackTable, version));
    process.stdout.write('wrote docs/capacity.md\n');
  }
}

const GB = 1024 ** 3;

function attackRows([capped, unbounded]: AccountAttack[]): string[] {
  const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : 'n/a');
  return [
    `| figure | list capped at ${capped.cap} (default) | list of all ${unbounded.cap} (unbounded) | capped ÷ unbounded |`,
    '|---|---|---|---|',
    `| Redis bytes per failed attempt (all keys ÷ attempts) | ${capped.bytesPerAttempt} | ${unbounded.bytesPerAttempt} | ${ratio(capped.bytesPerAttempt, unbounded.bytesPerAttempt)} |`,
    `| addresses in the account's list | ${capped.listedAddresses} | ${unbounded.listedAddresses} | |`,
    `| bytes of the account's list | ${capped.listBytes} | ${unbounded.listBytes} | ${ratio(capped.listBytes, unbounded.listBytes)} |`,
    `| admin state script, Redis time (median) | ${capped.stateMs.toFixed(2)} ms | ${unbounded.stateMs.toFixed(2)} ms | ${ratio(capped.stateMs, unbounded.stateMs)} |`,
    `| admin unlock script, Redis time (median) | ${capped.unlockMs.toFixed(2)} ms | ${unbounded.unlockMs.toFixed(2)} ms | ${ratio(capped.unlockMs, unbounded.unlockMs)} |`,
  ];
}

/** docs/capacity.md: the measured per-unit figures and what they mean at scale. Generated; edit this function. */
function capacityReport([session, tracker, lockout]: UnitCost[], table: string[], attackTable: string[], redisVersion: string): string {
  const sessions = 10_000_000;
  const addresses = 1_000_000;
  // An attacking address spends the general and the login budget windows, and leaves one lockout subject.
  const perAttacker = lockout.bytes + 2 * tracker.bytes;
  const gb = (bytes: number) => (bytes / GB).toFixed(2);
  // What failed logins with new emails leave for LOCKOUT_EMAIL_LOCK_MS (90 days), sustained at a rate (per second).
  const lastingFor90Days = (perSecond: number) => perSecond * 90 * 24 * 3600 * lockout.lastingBytes;
  const authBudgetPerSecond = 5 / 900; // the default auth budget of one address: 5 logins per 15 minutes
  return `# Capacity

Generated by \`npm run bench:memory -- --write\` (Redis ${redisVersion}, ${UNITS} units per row, ${new Date().toISOString().slice(0, 10)}):
the Redis memory each unit of state costs, summed with \`MEMORY USAGE\` over the keys it creates.

${table.join('\n')}

- **Session**: its hash and its entry in the user's index, with a 120-character browser user agent (the session keeps
  the device label, at most 60 bytes, not the agent, so the hash stays in Redis's compact encoding whatever the agent).
- **Rate-limit tracker**: one policy window of one client (IP or user).
- **Lockout subject**: one failed login of one email from one address: the pair's window, the account's pending set and
  failure streak, the address's spraying window and its entry in the account's list of recent addresses.

## One account attacked from many addresses

${ATTACK_ADDRESSES} new addresses fail one login each against one account (the account ceiling lifted, so every attempt
is counted), on a private Redis whose command statistics give the Redis time of the admin scripts. The account's list
of addresses keeps only the ${DEFAULT_LOCKOUT_ADDRESS_CAP} most recent (\`LockoutModuleOptions.addressCap\`), so it
and the admin state and unlock scripts stay bounded however many addresses attack; the per-attempt keys (pair and
address windows) expire with their windows. The second column runs the same attack with a list that keeps every
address, as an unbounded list would. Dropping an address from the list never lifts its lock, and an unlock still voids
it (see [lockout.md](lockout.md)).

${attackTable.join('\n')}

## At scale

| what | estimate |
|---|---|
| 10 M live sessions | ${gb(sessions * session.bytes)} GB |
| 1 M attacking addresses, each failing one login (general + login windows, one lockout subject) | ${gb(addresses * perAttacker)} GB |
| 1 M active users' general-budget windows | ${gb(addresses * tracker.bytes)} GB |

Redis needs headroom beyond the data: plan on the data ×1.5 for fragmentation, replication buffers and peaks, and
\`maxmemory-policy noeviction\` (an evicted session, denylist entry or lockout key would be a security bug: sessions must
end only when revoked or expired, and an evicted lock would unlock an attacker). A full Redis refuses writes with \`OOM\`;
the apps treat that as Redis being unavailable (each route's outage policy, 503 with \`Retry-After\`), not as a bug (500).

## What an attack leaves behind

Most of what an attack writes ends with its window, lock or address list (at most about 49 hours). A failure streak
lasts: the account ceiling counts consecutive failures however slowly they come, so an email's streak lives
\`LOCKOUT_EMAIL_LOCK_MS\` (90 days) after its last failure, and an email without an account is counted like a real one
(see [lockout.md](lockout.md)). Each failed login with an email not tried before so leaves **${lockout.lastingBytes} bytes for
90 days**, and only the rate of failed logins bounds what accumulates:

| failed logins with new emails, sustained for 90 days | data left |
|---|---|
| from one address (IPv4, or an IPv6 /64) at the default auth budget (5 per 15 minutes) | ${(lastingFor90Days(authBudgetPerSecond) / 1024 ** 2).toFixed(2)} MB |
| from 10,000 such addresses (one IPv6 /48 holds 65,536 /64s) | ${gb(lastingFor90Days(10_000 * authBudgetPerSecond))} GB |
| 50 a second (about one core of auth-service, argon2id included, see [benchmarks.md](benchmarks.md)) | ${gb(lastingFor90Days(50))} GB |

Size Redis for the rate you must outlast and alert on its memory (\`used_memory\` against \`maxmemory\`) well before
writes are refused; a shorter \`LOCKOUT_EMAIL_LOCK_MS\` shortens what lasts, at the price of more guesses per account.
Successful logins add their address to the account's known addresses, at most ${DEFAULT_LOCKOUT_ADDRESS_CAP} per account.

## How long keys live

Names are without the global key prefix (\`REDIS_KEY_PREFIX\`).

| keys | lifetime |
|---|---|
| session hash \`{u:<uid>}:s:<sid>\` | until the idle limit (7 days) after the last refresh, never past the absolute limit (30 days) |
| user index \`{u:<uid>}:sessions\` | until the last of its sessions ends (the latest expiry, set at each login and refresh) |
| denylisted token \`{u:<uid>}:deny:<jti>\` | the token's remaining life (at most 15 minutes) |
| authorization version \`{u:<uid>}:authv\` | no expiry (one small string per account that ever changed password, role or status) |
| rate-limit window \`{rl:<tracker>}:<policy>\` and its denial marker \`{rl:<tracker>}:<policy>:reported\` | its policy's window (15 minutes by default) |
| lockout pair window \`lockout:{e:<eh>}:pair:<ah>:pending\`, \`lockout:{e:<eh>}:pair:<ah>:failed\` | the pair window (15 minutes) |
| pair lock \`lockout:{e:<eh>}:pair:<ah>:lock\` and backoff level \`lockout:{e:<eh>}:pair:<ah>:level\` | the lock (15 minutes doubling to 24 hours); the level: the lock + 24 hours |
| account's attempts being verified \`lockout:{e:<eh>}:pending\` | \`LOCKOUT_EMAIL_WINDOW_MS\` (1 hour) |
| account failure streak \`lockout:{e:<eh>}:streak\` and ceiling lock \`lockout:{e:<eh>}:lock\` | \`LOCKOUT_EMAIL_LOCK_MS\` (90 days) after the last failure, for every email tried, with an account or not |
| address spraying window and block \`lockout:{ip:<ah>}:pending\`, \`lockout:{ip:<ah>}:failed\`, \`lockout:{ip:<ah>}:block\` | 1 hour |
| account's list of recent addresses \`lockout:{e:<eh>}:seen\` (at most ${DEFAULT_LOCKOUT_ADDRESS_CAP}) | the longest lock plus its backoff memory (about 49 hours) after the last attempt; an address drops out after as long unseen, or when newer ones pass the cap |
| account's unlock generation \`lockout:{e:<eh>}:unlocks\`, and the stamp \`lockout:{e:<eh>}:pair:<ah>:evicted\` of an address dropped from the list | as long as the pair state they void or keep (about 49 hours after the unlock or the drop) |
| account's known addresses \`lockout:{e:<eh>}:known\` (at most ${DEFAULT_LOCKOUT_ADDRESS_CAP}) | \`LOCKOUT_KNOWN_ADDRESS_TTL_MS\` (30 days) after the last successful login |
| lock alert throttle \`lockout:{e:<eh>}:notified\` | \`LOCKOUT_NOTIFICATION_INTERVAL_MS\` (1 hour) |
| streak being moved to a new \`LOCKOUT_SECRET\` \`lockout:{e:<eh>}:streak:moving\`, and the mark that it arrived \`lockout:{e:<eh>}:moved:<id>\` | as long as the streak (up to 90 days) |

## Sizing a cluster

Every key of a user carries the hash tag \`{u:<uid>}\`, every lockout key of an account \`{e:<hash>}\` or of an address
\`{ip:<hash>}\`, and rate-limit windows are tagged per tracker, so state spreads evenly over the slots: size each master
for (total data ÷ masters) ×1.5, and give each master a replica so a failover loses no session. CPU is rarely the limit:
the gateway batches rate-limit decisions (a small fraction of a Redis round trip per request, see [benchmarks.md](benchmarks.md)).
`;
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
