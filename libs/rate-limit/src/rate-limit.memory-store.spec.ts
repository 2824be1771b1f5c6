import { MemoryRateLimitStore } from './rate-limit.memory-store';

describe('MemoryRateLimitStore (Redis outage fallback)', () => {
  let now = 1_000_000;
  const clock = () => now;
  const charge = (tracker: string, limit = 2, policy = 'general') => ({ tracker, policy, limit, ttlMs: 1000 });

  it('limits per fixed window and opens a new window after it ends', async () => {
    const store = new MemoryRateLimitStore(100, clock);
    expect((await store.consume([charge('ip:a')])).admitted).toBe(true);
    now += 400;
    const second = await store.consume([charge('ip:a')]);
    expect(second).toMatchObject({ admitted: true, outcomes: [{ count: 2, resetMs: 600 }] });
    expect((await store.consume([charge('ip:a')])).admitted).toBe(false);
    now += 600;
    expect((await store.consume([charge('ip:a')])).outcomes[0].count).toBe(1);
  });

  it('is all-or-nothing over several policies and reports a window once', async () => {
    const store = new MemoryRateLimitStore(100, clock);
    const general = charge('ip:b', 10);
    const auth = charge('ip:b', 1, 'auth');
    await store.consume([general, auth]);
    const denied = await store.consume([general, auth]);
    const again = await store.consume([general, auth]);
    expect(denied.admitted).toBe(false);
    expect(denied.outcomes[1].firstDenial).toBe(true);
    expect(again.outcomes[1].firstDenial).toBe(false);
    expect(again.outcomes[0].count).toBe(1);
  });

  it('blockMs: refuses for the block from the exceeding request, not extended by hits, then starts afresh', async () => {
    const store = new MemoryRateLimitStore(100, clock);
    const otp = { ...charge('ip:c', 1, 'otp'), blockMs: 5_000 };
    expect((await store.consume([otp])).admitted).toBe(true);
    const refused = await store.consume([otp]);
    expect(refused).toMatchObject({ admitted: false, outcomes: [{ denied: true, firstDenial: true, resetMs: 5_000, count: 1 }] });
    now += 2_000; // the 1 s window is over, the block is not
    const during = await store.consume([otp]);
    expect(during).toMatchObject({ admitted: false, outcomes: [{ firstDenial: false, resetMs: 3_000 }] });
    now += 3_000;
    expect(await store.consume([otp])).toMatchObject({ admitted: true, outcomes: [{ count: 1 }] });
  });

  it("keeps its own time: a step of the machine's wall clock neither ends a window early nor stretches it", async () => {
    // The wall clock as the machine's NTP client may set it: real time plus a step.
    let step = 0;
    const realNow = Date.now.bind(Date);
    const wallClock = jest.spyOn(Date, 'now').mockImplementation(() => realNow() + step);
    try {
      // The fallback as RateLimiter builds it, on its default clock.
      const store = new MemoryRateLimitStore();
      const limited = { tracker: 'ip:clock-step', policy: 'general', limit: 1, ttlMs: 60_000 };
      expect((await store.consume([limited])).admitted).toBe(true);
      // The clock steps an hour forward during the outage: the client has not waited its minute.
      step = 3_600_000;
      expect((await store.consume([limited])).admitted).toBe(false);
      // And an hour back: the wait announced must not grow past the window.
      step = -3_600_000;
      const refused = await store.consume([limited]);
      expect(refused.admitted).toBe(false);
      expect(refused.outcomes[0].resetMs).toBeLessThanOrEqual(60_000);
    } finally {
      wallClock.mockRestore();
    }
  });

  it('keeps at most maxEntries windows, evicting the oldest', async () => {
    const store = new MemoryRateLimitStore(3, clock);
    for (const t of ['ip:1', 'ip:2', 'ip:3', 'ip:4', 'ip:5']) await store.consume([charge(t, 1)]);
    expect(store.size).toBe(3);
    // ip:1 was evicted, so it starts afresh; ip:5 is still remembered and blocked.
    expect((await store.consume([charge('ip:1', 1)])).admitted).toBe(true);
    expect((await store.consume([charge('ip:5', 1)])).admitted).toBe(false);
  });
});
