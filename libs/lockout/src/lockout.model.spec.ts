import fc from 'fast-check';
import { Cluster } from 'ioredis';

import { createRedisClient, type RedisClient } from '@nest-hardening/redis';
import {
  createTestRedis,
  fuzzParameters,
  holdScriptCalls,
  startRedisCluster,
  type TestRedis,
  type TestRedisCluster,
} from '@nest-hardening/testing';

import { runAgainstModel, type Login, type ModelOp, type ModelSubject, type Settle } from '../test/support/lockout-model-run';
import { resolveLockoutOptions, type LockoutModuleOptions, type ResolvedLockoutOptions } from './lockout-options.interface';
import type { LockoutState } from './lockout-state.interface';
import { MemoryLockoutStore } from './lockout.memory-store';
import { RedisLockoutStore } from './lockout.redis-store';
import { DROP_ACCOUNT_STATE_SCRIPT } from './scripts/migrate.script';

jest.setTimeout(60_000);

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * Small limits so a few dozen operations reach every rule, and lock lengths chosen so no two rules
 * ever announce the same wait (the rule reported is the one with the latest end).
 */
const RULES: LockoutModuleOptions = {
  keySecret: 'model-test-secret',
  pairMaxFailures: 3,
  pairWindowMs: 5 * MINUTE,
  baseLockMs: 10 * MINUTE,
  maxLockMs: 40 * MINUTE,
  backoffResetMs: HOUR,
  emailMaxFailures: 6,
  emailWindowMs: 10 * MINUTE,
  emailLockMs: 3 * DAY,
  ipMaxFailures: 5,
  ipWindowMs: 5 * MINUTE,
  ipBlockMs: 17 * MINUTE,
  knownAddressTtlMs: 2 * DAY,
  addressCap: 2,
};
const EMAILS = 3;
const ADDRESSES = 4;

const email = fc.nat(EMAILS - 1);
const ip = fc.nat(ADDRESSES - 1);
const settle = fc.constantFrom<Settle>('fail', 'fail', 'fail', 'succeed', 'release');
const login = (e: fc.Arbitrary<number>, a: fc.Arbitrary<number>): fc.Arbitrary<Login> =>
  fc.record({ email: e, ip: a, settle: fc.oneof(settle, fc.constant('hold' as const)) });
// Logins in flight at once: one email from several addresses, or one address for several emails
// (repeats included: the same pair twice at once).
const concurrent: fc.Arbitrary<ModelOp> = fc
  .oneof(
    email.chain((e) => fc.array(login(fc.constant(e), ip), { minLength: 2, maxLength: 4 })),
    ip.chain((a) => fc.array(login(email, fc.constant(a)), { minLength: 2, maxLength: 4 })),
  )
  .map((logins) => ({ kind: 'concurrent', logins }));
const sequentialOp: fc.Arbitrary<ModelOp> = fc.oneof(
  { weight: 12, arbitrary: login(email, ip).map((l): ModelOp => ({ kind: 'attempt', ...l })) },
  // Wrong passwords in a row from one address: reaches the pair, account and spraying limits.
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('burst' as const), email, ip, times: fc.integer({ min: 2, max: 5 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('settle' as const), which: fc.nat(7), settle }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unlock' as const), email, forgetKnown: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('state' as const), email, ip }) },
);
const untimedOp: fc.Arbitrary<ModelOp> = fc.oneof(
  { weight: 22, arbitrary: sequentialOp },
  { weight: 4, arbitrary: concurrent },
  { weight: 1, arbitrary: fc.constant({ kind: 'rotate' as const }) },
);
// Steps that land just before, on and after the ends of windows, locks and memories.
const STEPS = [1, 999, MINUTE, 5 * MINUTE, 10 * MINUTE - 1, 10 * MINUTE, 17 * MINUTE, 20 * MINUTE, HOUR, 2 * DAY, 3 * DAY];
const timedOp: fc.Arbitrary<ModelOp> = fc.oneof(
  { weight: 6, arbitrary: sequentialOp },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.constantFrom(...STEPS) }) },
);

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Emails and addresses of one run, new ones for every run so runs share no state. */
function names(run: number) {
  return {
    emails: Array.from({ length: EMAILS }, (_, i) => `user${i}-run${run}@example.com`),
    ips: Array.from({ length: ADDRESSES }, (_, i) => `10.${(run >> 8) & 255}.${run & 255}.${i + 1}`),
  };
}

function memorySubject(options: ResolvedLockoutOptions, clock: { now: number }): ModelSubject {
  const store = new MemoryLockoutStore(options, () => clock.now);
  return { name: 'memory', store, reservation: 'one-step', slackMs: () => 0, timeOf: (t) => t, tick: async () => undefined };
}

/** A Redis store whose clock runs on: the model's millisecond per operation against the real time passed, both ways. */
function redisSubject(name: string, client: RedisClient, options: ResolvedLockoutOptions, modelStart: number): ModelSubject {
  const realStart = Date.now();
  return {
    name,
    store: new RedisLockoutStore(client, options),
    reservation: client instanceof Cluster ? 'two-step' : 'one-step',
    rotate: () =>
      new RedisLockoutStore(client, { ...options, keySecret: `${options.keySecret} rotated`, previousKeySecret: options.keySecret }),
    slackMs: () => Date.now() - realStart + 50,
    timeOf: (t) => realStart + (t - modelStart),
    tick: () => sleep(2),
  };
}

const options = resolveLockoutOptions(RULES);
let redis: TestRedis;
let cluster: TestRedisCluster;
let clusterClient: RedisClient;
let run = 0;

beforeAll(async () => {
  redis = await createTestRedis('lockout-model');
  cluster = await startRedisCluster();
  clusterClient = createRedisClient({ url: '', clusterNodes: cluster.nodes, keyPrefix: '', commandTimeoutMs: 2000 });
  await clusterClient.connect();
}, 60_000);
afterAll(async () => {
  clusterClient?.disconnect();
  await Promise.all([redis?.cleanup(), cluster?.stop()]);
});

describe('lockout stores against a reference model of docs/lockout.md', () => {
  const untimed = fuzzParameters(25);
  it(
    `answers like the model in memory, on a single Redis and on a 3-master Redis Cluster, step by step and concurrently, across a key-secret rotation (seed ${untimed.seed})`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(untimedOp, { minLength: 10, maxLength: 45 }), async (ops) => {
          run++;
          const start = Date.UTC(2026, 0, 1);
          const memoryClock = { now: start };
          await Promise.all([
            runAgainstModel(options, ops, memorySubject(options, memoryClock), memoryClock, names(run)),
            runAgainstModel(options, ops, redisSubject('redis', redis.client, options, start), { now: start }, names(run)),
            runAgainstModel(options, ops, redisSubject('redis cluster', clusterClient, options, start), { now: start }, names(run)),
          ]);
        }),
        untimed,
      );
    },
    60_000 * Math.max(1, untimed.numRuns / 25),
  );

  const timed = fuzzParameters(150);
  it(
    `answers like the model in memory as time passes: windows, locks, backoff and memories lapse (seed ${timed.seed})`,
    async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(timedOp, { minLength: 10, maxLength: 80 }), async (ops) => {
          run++;
          const clock = { now: Date.UTC(2026, 0, 1) };
          await runAgainstModel(options, ops, memorySubject(options, clock), clock, names(run));
        }),
        timed,
      );
    },
    60_000 * Math.max(1, timed.numRuns / 150),
  );
});

// Found by the model above: a verification settled after its reservation's window counted as a
// failure while a later attempt kept the window alive (memory: while the account was kept), so the
// same late answer counted or not depending on unrelated attempts, and the two stores disagreed.
describe('a failure confirmed after its reservation dropped out of the window', () => {
  const SHORT = { ...RULES, pairWindowMs: 300, emailWindowMs: 300, ipWindowMs: 300 };
  const counts = (state: LockoutState) => [state.emailFailures, state.addresses.map((a) => a.failures), state.ip?.failures];

  it('counts nowhere on real Redis, even while a later attempt keeps the window alive', async () => {
    const redis = await createTestRedis('lockout-late-failure');
    try {
      const store = new RedisLockoutStore(redis.client, resolveLockoutOptions(SHORT));
      const late = await store.reserve('late@example.com', '10.200.0.1');
      await sleep(150);
      const next = await store.reserve('late@example.com', '10.200.0.1');
      await sleep(200); // the first reservation's window has ended; the second's has not
      if (!late.allowed || !next.allowed) throw new Error('both attempts must be reserved');

      expect(await store.confirmFailure(late.reservation)).toEqual({ pairLockMs: 0, backoffLevel: 0, emailLockMs: 0, ipBlockMs: 0 });
      expect(counts(await store.readState('late@example.com', '10.200.0.1'))).toEqual([0, [0], 0]);
    } finally {
      await redis.cleanup();
    }
  });

  it('counts nowhere in memory', async () => {
    const clock = { now: Date.UTC(2026, 0, 1) };
    const store = new MemoryLockoutStore(resolveLockoutOptions(SHORT), () => clock.now);
    const late = await store.reserve('late@example.com', '10.200.0.1');
    clock.now += 150;
    await store.reserve('late@example.com', '10.200.0.1');
    clock.now += 200;
    if (!late.allowed) throw new Error('the attempt must be reserved');

    await store.confirmFailure(late.reservation);
    expect(counts(await store.readState('late@example.com', '10.200.0.1'))).toEqual([0, [0], 0]);
  });
});

/** A store with the key secret of RULES, and one an instance restarted with a rotated secret uses. */
function rotation(client: RedisClient, rules: LockoutModuleOptions = RULES) {
  const before = resolveLockoutOptions(rules);
  const during = resolveLockoutOptions({ ...rules, keySecret: `${rules.keySecret} rotated`, previousKeySecret: rules.keySecret });
  return { before: new RedisLockoutStore(client, before), during: new RedisLockoutStore(client, during) };
}

describe.each([
  ['a single Redis', () => redis.client],
  ['a 3-master Redis Cluster', () => clusterClient],
])('found by the model on %s: a key-secret rotation', (_, client) => {
  // The move of an address's pair state recorded the address as attempted at the moment of the
  // move, so a refused attempt from an old, locked address pushed the account's most recent
  // addresses out of its list (cap 2 here): the admin state no longer showed them.
  it('lists a moved address at its last attempt, not at the move', async () => {
    const { before, during } = rotation(client());
    const email = `moved-list-${++run}@example.com`;
    const [old, recent, latest] = ['10.201.0.1', '10.201.0.2', '10.201.0.3'];
    for (let i = 0; i < RULES.pairMaxFailures!; i++) {
      const r = await before.reserve(email, old);
      if (r.allowed) await before.confirmFailure(r.reservation);
    }
    for (const ip of [recent, latest]) {
      await sleep(2);
      const r = await during.reserve(email, ip);
      if (r.allowed) await during.confirmFailure(r.reservation);
    }

    expect(await during.reserve(email, old)).toMatchObject({ allowed: false, rule: 'pair' });
    const listed = (await during.readState(email)).addresses.map((a) => a.address);
    expect(listed).toEqual([latest, recent].map((ip) => during.subject(email, ip).addressHash));
  });

  // The admin state of an account read under both secrets listed the addresses of the new names,
  // then those of the old ones: up to twice the cap, not the most recent first.
  it('lists at most the cap of addresses across both secrets, the most recent first', async () => {
    const { before, during } = rotation(client());
    const email = `merged-list-${++run}@example.com`;
    const [old, recent, latest] = ['10.202.0.1', '10.202.0.2', '10.202.0.3'];
    for (const [store, ip] of [
      [before, old],
      [during, recent],
      [during, latest],
    ] as const) {
      await sleep(2);
      const r = await store.reserve(email, ip);
      if (r.allowed) await store.confirmFailure(r.reservation);
    }

    const state = await during.readState(email);
    expect(state.addresses.map((a) => a.address)).toEqual([latest, recent].map((ip) => during.subject(email, ip).addressHash));
    expect(state.emailFailures).toBe(3);
  });

  // An address left on the old names' list with nothing else to move (its attempt released) stayed
  // there once the account had moved, and took the place of an older locked address in the state.
  it('takes an address off the old list when it moves, so it is not listed twice', async () => {
    const { before, during } = rotation(client());
    const email = `listed-twice-${++run}@example.com`;
    const [locked, released] = ['10.203.0.1', '10.203.0.2'];
    for (let i = 0; i < RULES.pairMaxFailures!; i++) {
      const r = await before.reserve(email, locked);
      if (r.allowed) await before.confirmFailure(r.reservation);
    }
    const attempt = async (store: RedisLockoutStore) => {
      await sleep(2);
      const r = await store.reserve(email, released);
      if (r.allowed) await store.release(r.reservation);
    };
    await attempt(before);
    // Moves the account and the locked address; the released one is left on the old list.
    expect(await during.reserve(email, locked)).toMatchObject({ allowed: false, rule: 'pair' });
    await attempt(during);

    const state = await during.readState(email);
    expect(state.addresses.map((a) => a.address)).toEqual([released, locked].map((ip) => during.subject(email, ip).addressHash));
    expect(state.addresses[1].locked).toBe(true);
  });

  // Known addresses moved one by one, each when it next tried, and without the cap: an address that
  // more recent successes had pushed out of the account's known addresses (cap 2 here) came back
  // when it moved, and was spared the account-wide lock again.
  it('keeps the cap of known addresses across both secrets: an address pushed out stays out', async () => {
    const { before, during } = rotation(client());
    const email = `known-cap-${++run}@example.com`;
    const [oldest, older, newest] = ['10.204.0.1', '10.204.0.2', '10.204.0.3'];
    const succeed = async (store: RedisLockoutStore, ip: string) => {
      await sleep(2);
      const r = await store.reserve(email, ip);
      if (r.allowed) await store.recordSuccess(r.reservation);
    };
    await succeed(before, oldest);
    await succeed(before, older);
    await succeed(during, newest);

    expect(await during.reserve(email, oldest)).toMatchObject({ allowed: true, reservation: { knownAddress: false } });
    expect(await during.reserve(email, older)).toMatchObject({ allowed: true, reservation: { knownAddress: true } });
  });

  // While one known address was between its merge and its removal from the old names, a concurrent
  // move of another counted it under both names, and the second address lost its exemption.
  it('counts an address being moved once against the cap of known addresses', async () => {
    const { before } = rotation(client());
    const email = `known-moving-${++run}@example.com`;
    const [older, newer] = ['10.205.0.1', '10.205.0.2'];
    for (const ip of [older, newer]) {
      await sleep(2);
      const r = await before.reserve(email, ip);
      if (r.allowed) await before.recordSuccess(r.reservation);
    }
    const held = holdScriptCalls(client(), ([sha]) => sha === DROP_ACCOUNT_STATE_SCRIPT.sha);
    const moving = rotation(held.client).during.reserve(email, newer); // merged, not yet removed from the old names
    await held.reached;

    expect(await rotation(client()).during.reserve(email, older)).toMatchObject({ allowed: true, reservation: { knownAddress: true } });
    held.open();
    expect(await moving).toMatchObject({ allowed: true, reservation: { knownAddress: true } });
  });
});
