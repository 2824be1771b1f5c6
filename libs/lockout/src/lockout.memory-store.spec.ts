import { resolveLockoutOptions, type LockoutModuleOptions } from './lockout-options.interface';
import { MemoryLockoutStore } from './lockout.memory-store';
import type { ReserveOutcome } from './lockout.store';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;

/** A store on a clock the test moves, so rules that take minutes or days are checked at once. */
function storeAt(options: Omit<LockoutModuleOptions, 'keySecret'> = {}) {
  const clock = { now: Date.UTC(2026, 0, 1) };
  const store = new MemoryLockoutStore(
    resolveLockoutOptions({ keySecret: 'memory-test-secret', store: 'memory', ...options }),
    () => clock.now,
  );
  return { store, clock };
}

function reserved(outcome: ReserveOutcome) {
  if (!outcome.allowed) throw new Error(`refused by ${outcome.rule}`);
  return outcome.reservation;
}

async function fail(store: MemoryLockoutStore, email: string, ip: string, times = 1): Promise<void> {
  for (let i = 0; i < times; i++) await store.confirmFailure(reserved(await store.reserve(email, ip)));
}

describe('MemoryLockoutStore (the rules that take time, on a test clock)', () => {
  it('announces, for a window full of attempts still being verified, the end of the lock they may start', async () => {
    const { store } = storeAt({ pairWindowMs: 15 * MINUTE, baseLockMs: 20 * MINUTE });
    for (let i = 0; i < 5; i++) reserved(await store.reserve('a@example.com', '10.0.0.1'));

    // Not earlier than the lock five failures would start, plus a second for the verification in flight.
    expect(await store.reserve('a@example.com', '10.0.0.1')).toEqual({ allowed: false, waitMs: 20 * MINUTE + SECOND, rule: 'pair' });
  });

  it('doubles a pair lock within the backoff memory, caps it, and starts again from the base once it decays', async () => {
    const { store, clock } = storeAt({ baseLockMs: MINUTE, maxLockMs: 3 * MINUTE, backoffResetMs: 10 * MINUTE });
    const lockMs = async () => {
      await fail(store, 'b@example.com', '10.0.0.2', 5);
      const refused = await store.reserve('b@example.com', '10.0.0.2');
      if (refused.allowed) throw new Error('the pair must be locked');
      clock.now += refused.waitMs;
      return refused.waitMs;
    };

    expect([await lockMs(), await lockMs(), await lockMs()]).toEqual([MINUTE, 2 * MINUTE, 3 * MINUTE]);
    clock.now += 10 * MINUTE; // the level decays backoffResetMs after the END of the last lock
    expect(await lockMs()).toBe(MINUTE);
  });

  it('exempts a known address from the account ceiling only while it is known', async () => {
    const { store, clock } = storeAt({ emailMaxFailures: 3, knownAddressTtlMs: 30 * MINUTE, emailLockMs: 24 * 60 * MINUTE });
    await store.recordSuccess(reserved(await store.reserve('c@example.com', '10.0.0.3')));
    await fail(store, 'c@example.com', '10.0.0.4', 3);

    expect(await store.reserve('c@example.com', '10.0.0.5')).toMatchObject({ allowed: false, rule: 'email' });
    const home = reserved(await store.reserve('c@example.com', '10.0.0.3'));
    expect(home.knownAddress).toBe(true);
    await store.release(home);

    clock.now += 30 * MINUTE;
    expect(await store.reserve('c@example.com', '10.0.0.3')).toMatchObject({ allowed: false, rule: 'email' });
  });

  it('claims one lock notification per account per interval', async () => {
    const { store, clock } = storeAt({ notificationIntervalMs: 60 * MINUTE });
    const { emailHash } = store.subject('d@example.com', '10.0.0.6');

    expect([await store.claimNotification(emailHash), await store.claimNotification(emailHash)]).toEqual([true, false]);
    clock.now += 60 * MINUTE;
    expect(await store.claimNotification(emailHash)).toBe(true);
  });

  it("claims the account-wide lock's notification within the interval too, restarting it", async () => {
    const { store, clock } = storeAt({ notificationIntervalMs: 60 * MINUTE });
    const { emailHash } = store.subject('e@example.com', '10.0.0.7');

    expect([await store.claimNotification(emailHash), await store.claimNotification(emailHash, true)]).toEqual([true, true]);
    clock.now += 59 * MINUTE;
    expect(await store.claimNotification(emailHash)).toBe(false);
  });
});

describe('MemoryLockoutStore memory', () => {
  it('holds at most memoryMaxEntries accounts, addresses and pairs, however many attempts come', async () => {
    const { store } = storeAt({ memoryMaxEntries: 50 });
    for (let i = 0; i < 1_000; i++) await fail(store, `user${i}@example.com`, `10.1.${i >> 8}.${i & 255}`);

    expect(store.size).toBeLessThanOrEqual(50);
  });

  it('drops lapsed entries before forgetting a live lock', async () => {
    const { store, clock } = storeAt({
      memoryMaxEntries: 30,
      pairWindowMs: MINUTE,
      ipWindowMs: MINUTE,
      emailWindowMs: MINUTE,
      baseLockMs: 60 * MINUTE,
    });
    await fail(store, 'locked@example.com', '10.2.0.1', 5);
    for (let round = 0; round < 5; round++) {
      // Each round fills the cap with state whose windows lapse before the next round.
      for (let i = 0; i < 9; i++) {
        const r = reserved(await store.reserve(`visitor${round}-${i}@example.com`, `10.3.${round}.${i}`));
        await store.release(r);
      }
      clock.now += 2 * MINUTE;
    }

    expect(await store.reserve('locked@example.com', '10.2.0.1')).toMatchObject({ allowed: false, rule: 'pair' });
  });
});
