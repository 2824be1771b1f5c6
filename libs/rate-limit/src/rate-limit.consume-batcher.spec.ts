import fc from 'fast-check';

import { createRedisClient, observeRedisScripts, type ScriptDeadlines } from '@nest-hardening/redis';
import { createTestRedis, fuzzParameters, holdScriptCalls, type TestRedis } from '@nest-hardening/testing';

import { ConsumeBatcher } from './rate-limit.consume-batcher';
import { rateLimitKeys } from './rate-limit.keys';
import type { RateLimitCharge, RateLimitDecision } from './rate-limit.store.interface';

interface ModelRequest {
  cost: number;
  charges: RateLimitCharge[];
}
interface ModelWindow {
  count: number;
  /** ms until reset (the key's PTTL); unused while count is 0. */
  resetMs: number;
  reported: boolean;
  /** ms left of a block in force (0: none). */
  blockedMs: number;
}

/**
 * The rate limiter's meaning, one request at a time: each request is checked against every window
 * it charges and applied all-or-nothing, in order; a blocked window refuses everything, and a
 * denial that exceeds a limit with `blockMs` blocks its window (count reset). A batch must decide
 * exactly like this.
 */
function decideOneByOne(windows: Map<string, ModelWindow>, requests: readonly ModelRequest[]): RateLimitDecision[] {
  return requests.map(({ cost, charges }) => {
    const blocking: { w: ModelWindow; blockMs: number }[] = [];
    const outcomes = charges.map(({ policy, tracker, limit, ttlMs, blockMs }) => {
      const c = { policy, tracker, limit, ttlMs };
      const w = windows.get(rateLimitKeys(tracker, policy).counter) as ModelWindow;
      if (w.blockedMs > 0) return { ...c, count: limit, resetMs: w.blockedMs, denied: true, firstDenial: false };
      const denied = w.count + cost > limit;
      if (denied && blockMs) {
        // A window charged twice by one request starts one block, reported once.
        const firstDenial = !blocking.some((b) => b.w === w);
        blocking.push({ w, blockMs });
        return { ...c, count: limit, resetMs: blockMs, denied: true, firstDenial };
      }
      const firstDenial = denied && !w.reported;
      if (firstDenial) w.reported = true;
      return { ...c, count: w.count, resetMs: w.count > 0 ? w.resetMs : ttlMs, denied, firstDenial };
    });
    for (const { w, blockMs } of blocking) Object.assign(w, { blockedMs: blockMs, count: 0, reported: true });
    const admitted = outcomes.every((o) => !o.denied);
    if (admitted) {
      charges.forEach((c, i) => {
        const w = windows.get(rateLimitKeys(c.tracker, c.policy).counter) as ModelWindow;
        if (w.count === 0) w.resetMs = c.ttlMs;
        outcomes[i].count = w.count += cost;
      });
    }
    return { admitted, outcomes };
  });
}

describe('ConsumeBatcher (real Redis)', () => {
  let redis: TestRedis;
  let calls: number;

  beforeAll(async () => {
    redis = await createTestRedis('rate-limit-batcher');
    observeRedisScripts(redis.client, (script) => {
      if (script === 'rate-limit-consume') calls++;
    });
  });
  beforeEach(() => {
    calls = 0;
  });
  afterAll(async () => {
    observeRedisScripts(redis.client, undefined);
    await redis.cleanup();
  });

  const charge = (tracker: string, policy: string, limit: number, ttlMs = 60_000): RateLimitCharge => ({ tracker, policy, limit, ttlMs });
  /** The real client, with every script call shown to `onCall` before it is sent; the first waits until `open()`. */
  const gatedFirstCall = (onCall: (args: readonly unknown[]) => void) => {
    let sent = 0;
    return holdScriptCalls(redis.client, (args) => {
      onCall(args);
      return ++sent === 1;
    });
  };

  it('sends the decisions asked for in one event-loop turn as one script call', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => batcher.consume(-1, [charge(`user:batch-${i}`, 'general', 100)], 1)),
    );
    expect(calls).toBe(1);
    expect(decisions.every((d) => d.admitted && d.outcomes[0].count === 1)).toBe(true);
  });

  it('sends a call once more when Redis judged it late while its caller still waited (a clock step): charged once', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    // The last reading of Redis's clock is a minute behind it, as after Redis's clock stepped forward.
    const [seconds] = await redis.client.time();
    (batcher as unknown as { deadlines: ScriptDeadlines }).deadlines.observe('', (Number(seconds) - 60) * 1000, performance.now());
    const c = charge('user:clock-step', 'general', 100);
    const decision = await batcher.consume(-1, [c], 1);
    expect(calls).toBe(2);
    expect(decision.admitted && decision.outcomes[0].count).toBe(1);
    expect(await redis.client.get(rateLimitKeys(c.tracker, c.policy).counter)).toBe('1');
    // The late reply's reading is the one used next: one call again.
    await batcher.consume(-1, [c], 1);
    expect(calls).toBe(3);
  });

  it('decides a batch in arrival order, each request on its own: exactly the limit is admitted', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    const c = charge('ip:10.1.0.1', 'auth', 3);
    const decisions = await Promise.all(Array.from({ length: 10 }, () => batcher.consume(-1, [c], 1)));
    expect(calls).toBe(1);
    expect(decisions.map((d) => d.admitted)).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(decisions.map((d) => d.outcomes[0].count)).toEqual([1, 2, 3, 3, 3, 3, 3, 3, 3, 3]);
    // The first denial of the window is flagged once, for the first denied request only.
    expect(decisions.map((d) => d.outcomes[0].firstDenial)).toEqual([false, false, false, true, false, false, false, false, false, false]);
    expect(await redis.client.get(rateLimitKeys(c.tracker, c.policy).counter)).toBe('3');
  });

  it('keeps every request all-or-nothing inside a batch', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    const general = charge('user:mixed', 'general', 100);
    const ceiling = charge('ip:10.1.0.2', 'ipCeiling', 2);
    const decisions = await Promise.all([
      batcher.consume(-1, [general, ceiling], 1),
      batcher.consume(-1, [general, ceiling], 1),
      batcher.consume(-1, [general, ceiling], 1), // the ceiling refuses: general must not be charged
      batcher.consume(-1, [general], 1),
    ]);
    expect(calls).toBe(1);
    expect(decisions.map((d) => d.admitted)).toEqual([true, true, false, true]);
    expect(decisions[2].outcomes.map((o) => o.denied)).toEqual([false, true]);
    expect(decisions[3].outcomes[0].count).toBe(3);
    expect(await redis.client.get(rateLimitKeys(general.tracker, 'general').counter)).toBe('3');
  });

  it('splits a large turn into calls of at most the configured size', async () => {
    const batcher = new ConsumeBatcher(redis.client, 8);
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => batcher.consume(-1, [charge(`user:split-${i % 5}`, 'general', 100)], 1)),
    );
    expect(calls).toBe(3);
    expect(decisions.filter((d) => d.admitted)).toHaveLength(20);
    expect(await redis.client.get(rateLimitKeys('user:split-0', 'general').counter)).toBe('4');
  });

  it('holds what arrives while its call is out, and what arrives in the turn after it returns, for one next call', async () => {
    let sent = 0;
    const { client, open: release } = gatedFirstCall(() => sent++);
    const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
    const batcher = new ConsumeBatcher(client);
    const decisions = [batcher.consume(-1, [charge('user:held-0', 'general', 100)], 1)];
    await nextTurn();
    for (let turn = 1; turn <= 3; turn++) {
      decisions.push(batcher.consume(-1, [charge(`user:held-${turn}`, 'general', 100)], 1));
      await nextTurn();
    }
    expect(sent).toBe(1);
    // A request that arrives in the turn after the first call returned joins the three that waited.
    const late = decisions[0]
      .then(() => new Promise<void>((resolve) => setImmediate(resolve)))
      .then(() => batcher.consume(-1, [charge('user:held-4', 'general', 100)], 1));
    release();
    const all = await Promise.all([...decisions, late]);
    expect(sent).toBe(2);
    expect(all.every((d) => d.admitted && d.outcomes[0].count === 1)).toBe(true);
  });

  it('holds up no other slot while a slot waits out the turn after its call returned', async () => {
    // Which slot each script call carries, by the counter key it sends.
    const slotKeys = new Map([1, 2].map((slot) => [rateLimitKeys(`user:defer-${slot}`, 'general').counter, slot]));
    const sentSlots: number[] = [];
    const { client, open: release } = gatedFirstCall((args) => sentSlots.push(...args.flatMap((arg) => slotKeys.get(String(arg)) ?? [])));
    const batcher = new ConsumeBatcher(client);
    const first = batcher.consume(1, [charge('user:defer-1', 'general', 100)], 1);
    await new Promise((resolve) => setImmediate(resolve));
    const waiting = batcher.consume(1, [charge('user:defer-1', 'general', 100)], 1);
    // Slot 2's request arrives in the I/O phase in which slot 1's call returns.
    const other = first.then(() => batcher.consume(2, [charge('user:defer-2', 'general', 100)], 1));
    release();
    await Promise.all([first, waiting, other]);
    expect(sentSlots).toEqual([1, 2, 1]);
  });

  it('keeps slots apart: one call per slot in a turn', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    await Promise.all([
      batcher.consume(1, [charge('user:slot-a', 'general', 10)], 1),
      batcher.consume(2, [charge('user:slot-b', 'general', 10)], 1),
      batcher.consume(1, [charge('user:slot-a', 'general', 10)], 1),
    ]);
    expect(calls).toBe(2);
  });

  it('blocks a window for blockMs from the denial that exceeds it, refusing everything meanwhile', async () => {
    const batcher = new ConsumeBatcher(redis.client);
    const c = { ...charge('ip:10.1.0.9', 'auth', 2), blockMs: 120_000 };
    const decisions = await Promise.all(Array.from({ length: 5 }, () => batcher.consume(-1, [c], 1)));
    expect(decisions.map((d) => d.admitted)).toEqual([true, true, false, false, false]);
    expect(decisions.map((d) => d.outcomes[0].firstDenial)).toEqual([false, false, true, false, false]);
    expect(decisions[2].outcomes[0]).toMatchObject({ denied: true, count: 2, resetMs: 120_000 });
    const keys = rateLimitKeys(c.tracker, c.policy);
    expect(await redis.client.exists(keys.counter)).toBe(0);
    expect(await redis.client.pttl(keys.reported)).toBeGreaterThan(60_000);
    // A later call sees the block from Redis: refused, with the block's remaining time, not extended.
    const later = await batcher.consume(-1, [c], 1);
    expect(later.admitted).toBe(false);
    expect(later.outcomes[0].resetMs).toBeLessThanOrEqual(120_000);
    expect(later.outcomes[0].resetMs).toBeGreaterThan(60_000);
  });

  it('decides a random batch exactly like one request at a time (property)', async () => {
    const windowIds = [0, 1, 2, 3];
    const windowOf = (id: number) => ({
      tracker: id < 2 ? `user:prop-${id}` : `ip:10.9.0.${id}`,
      policy: id % 2 ? 'ipCeiling' : 'general',
    });
    // A window's charges may differ in limit and length (per-route @Throttle overrides of one policy).
    const chargeArb = fc.record({
      window: fc.constantFrom(...windowIds),
      limit: fc.integer({ min: 0, max: 8 }),
      ttlMs: fc.constantFrom(30_000, 60_000),
    });
    const requestArb = fc.record({ cost: fc.integer({ min: 1, max: 3 }), charges: fc.array(chargeArb, { minLength: 1, maxLength: 3 }) });
    const startArb = fc.record({
      count: fc.integer({ min: 0, max: 6 }),
      ttlMs: fc.integer({ min: 5_000, max: 50_000 }),
      reported: fc.boolean(),
    });
    // A policy's block length is policy-wide: one per window and run (0: the policy has none).
    const blocksArb = fc.array(fc.constantFrom(0, 0, 20_000), { minLength: 4, maxLength: 4 });
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(startArb, { minLength: 4, maxLength: 4 }),
        blocksArb,
        fc.array(requestArb, { minLength: 1, maxLength: 40 }),
        async (starts, blocks, requests) => {
          run++;
          const named = requests.map(({ cost, charges }) => ({
            cost,
            charges: charges.map(({ window, limit, ttlMs }) => {
              const { tracker, policy } = windowOf(window);
              return { tracker: `${tracker}-${run}`, policy, limit, ttlMs, ...(blocks[window] > 0 ? { blockMs: blocks[window] } : {}) };
            }),
          }));
          const windows = new Map<string, ModelWindow>();
          for (const id of windowIds) {
            const { tracker, policy } = windowOf(id);
            const keys = rateLimitKeys(`${tracker}-${run}`, policy);
            const start = starts[id];
            // For a policy with a block, the marker is the block: a blocked window has no counter.
            const blockedMs = blocks[id] > 0 && start.reported ? start.ttlMs : 0;
            const count = blockedMs > 0 ? 0 : start.count;
            if (count > 0) await redis.client.set(keys.counter, String(count), 'PX', start.ttlMs);
            if (start.reported) await redis.client.set(keys.reported, '1', 'PX', start.ttlMs);
            windows.set(keys.counter, { count, resetMs: start.ttlMs, reported: start.reported, blockedMs });
          }
          const expected = decideOneByOne(windows, named);

          calls = 0;
          const batcher = new ConsumeBatcher(redis.client);
          const decided = await Promise.all(named.map(({ cost, charges }) => batcher.consume(-1, charges, cost)));
          expect(calls).toBe(1);
          // Time passes between SET and the script: a PTTL can be a few ms below the model's.
          const exceptReset = (d: RateLimitDecision) => ({ ...d, outcomes: d.outcomes.map((o) => ({ ...o, resetMs: 0 })) });
          expect(decided.map(exceptReset)).toEqual(expected.map(exceptReset));
          decided.forEach((d, r) =>
            d.outcomes.forEach((o, i) => expect(Math.abs(o.resetMs - expected[r].outcomes[i].resetMs)).toBeLessThan(1000)),
          );
          for (const [counter, w] of windows) {
            expect(Number((await redis.client.get(counter)) ?? 0)).toBe(w.count);
            const pttl = await redis.client.pttl(counter);
            if (w.count > 0) expect(Math.abs(pttl - w.resetMs)).toBeLessThan(1000);
            expect(await redis.client.exists(`${counter}:reported`)).toBe(w.reported ? 1 : 0);
          }
        },
      ),
      fuzzParameters(150),
    );
  });

  it('fails every request of a call that fails, and the next turn starts afresh', async () => {
    const client = createRedisClient({ url: redis.url, keyPrefix: redis.prefix, commandTimeoutMs: 500, connectionName: 'test' });
    await client.connect();
    const batcher = new ConsumeBatcher(client);
    client.disconnect();
    const results = await Promise.allSettled(
      Array.from({ length: 3 }, (_, i) => batcher.consume(-1, [charge(`user:down-${i}`, 'general', 10)], 1)),
    );
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);

    const healthy = new ConsumeBatcher(redis.client);
    expect((await healthy.consume(-1, [charge('user:down-0', 'general', 10)], 1)).outcomes[0].count).toBe(1);
  });
});
