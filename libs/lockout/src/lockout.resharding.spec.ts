import { DependencyUnavailableError } from '@nest-hardening/errors';
import { startRedisCluster, uniqueKeyPrefix, type TestRedisCluster } from '@nest-hardening/testing';

import { inspect, ONE_MINUTE_LIMITS } from '../test/support/address-cap.cases';
import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';
import type { LockoutState } from './lockout-state.interface';
import type { LockoutKeys } from './lockout.keys';

jest.setTimeout(60_000);

const WRONG = 'wrong password';

/**
 * An account's slot being resharded (CLUSTER SETSLOT IMPORTING/MIGRATING, some keys moved by
 * MIGRATE, as `redis-cli --cluster reshard` does), as in redis-session.store.resharding.spec.ts.
 * The admin state and unlock scripts derive the pair keys of each listed address in Lua from the
 * `seen` key instead of declaring them: on the node that runs the script they may be absent (moved,
 * or not moved yet) without Redis noticing.
 */
describe('lockout while an account slot is being resharded', () => {
  let cluster: TestRedisCluster;
  let t: LoginTestApp;
  const prefix = uniqueKeyPrefix('lockreshard');
  let accountCounter = 0;
  let ipCounter = 0;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    t = await startLoginTestApp(
      { ...ONE_MINUTE_LIMITS, keyPrefix: prefix, clusterNodes: cluster.nodes },
      Array.from({ length: 20 }, (_, i) => `reshard${i + 1}@example.com`),
    );
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  /** Starts moving the account's slot to another master and moves only `moved` of its keys. */
  const startMove = (k: LockoutKeys, moved: string[]) =>
    cluster.startSlotMove(
      prefix + k.seen,
      moved.map((key) => prefix + key),
    );

  /** An account whose pair (email, ip) is locked (5 failures), with a second listed address. */
  async function lockedAccount() {
    const n = ++accountCounter;
    const email = `reshard${n}@example.com`;
    const ip = `10.30.${++ipCounter}.1`;
    for (let i = 0; i < 5; i++) expect((await t.login(email, WRONG, ip)).status).toBe(401);
    expect((await t.login(email, WRONG, `10.30.${ipCounter}.2`)).status).toBe(401);
    expect((await t.lockout.getState(email)).addresses.find((a) => a.address === t.lockout.addressId(ip))?.locked).toBe(true);
    return { email, ip, ...inspect(t, email, ip) };
  }

  /** 503 (transient: DependencyUnavailableError) or the error message (anything else answers 500). */
  async function attempt<T>(call: () => Promise<T>): Promise<T | string> {
    try {
      return await call();
    } catch (error) {
      return error instanceof DependencyUnavailableError ? '503' : `500: ${(error as Error).message}`;
    }
  }

  /** What the admin sees of the locked pair: its lock, or 503 (a 500 or "not locked" is wrong). */
  const pairLockSeen = (state: LockoutState | string, ip: string) =>
    typeof state === 'string' ? state : (state.addresses.find((a) => a.address === t.lockout.addressId(ip))?.locked ?? 'not listed');

  /**
   * Admin state, unlock and a login during the move, then after it: each answers correctly or 503
   * (documented: transient Redis replies answer 503 + Retry-After), never 500, never a missing lock;
   * a 503 unlock changed nothing and its retry after the move unlocks.
   */
  async function duringAndAfter(account: Awaited<ReturnType<typeof lockedAccount>>, moved: string[]) {
    const move = await startMove(account.k, moved);
    const state = pairLockSeen(await attempt(() => t.lockout.getState(account.email)), account.ip);
    const login = (await t.login(account.email, TEST_PASSWORD, account.ip)).status;
    const unlock = await attempt(() => t.lockout.unlock(account.email, { adminId: 'admin', accountId: 'reshard' }));
    await move.finish();
    const unlocked = pairLockSeen(unlock, account.ip);
    const lockedAfterMove = pairLockSeen(await t.lockout.getState(account.email), account.ip);
    if (unlock === '503') await t.lockout.unlock(account.email, { adminId: 'admin', accountId: 'reshard' });
    const loginAfterUnlock = (await t.login(account.email, TEST_PASSWORD, account.ip)).status;
    return { state, login, unlocked, lockedAfterMove: unlock === '503' ? lockedAfterMove : 'n/a', loginAfterUnlock };
  }

  /** Each answer as documented (or 503), shown whole when one is not. */
  function expectDocumented(result: Awaited<ReturnType<typeof duringAndAfter>>) {
    const ok =
      [true, '503'].includes(result.state) &&
      [429, 503].includes(result.login) &&
      [true, '503'].includes(result.unlocked) &&
      [true, 'n/a'].includes(result.lockedAfterMove) &&
      result.loginAfterUnlock === 200;
    expect({ ...result, ok }).toEqual({ ...result, ok: true });
  }

  describe('with the keys a locked account has', () => {
    for (const [name, moved] of [
      ['nothing moved yet', () => []],
      ['only the pair lock moved', (k: LockoutKeys) => [k.pairLock]],
      ['only the address list moved', (k: LockoutKeys) => [k.seen]],
      ['everything but the pair lock moved', (k: LockoutKeys) => [k.seen, k.emailStreak, k.pairLevel]],
    ] as const) {
      it(`${name}: 503 or the right answer, never a 500 or a missed lock`, async () => {
        const account = await lockedAccount();
        const result = await duringAndAfter(account, moved(account.k));
        expectDocumented(result);
      });
    }
  });

  /**
   * Redis runs a script during a move only when every key it declares is on the node it reaches
   * (otherwise TRYAGAIN or ASK): the 8 keys of the state scripts all exist when an account has a
   * pending attempt, a streak, an account lock, a known address, an earlier unlock, an address SET
   * left by an earlier version and a streak parcel of a key-secret move. Then the undeclared pair
   * keys are read on the node the declared ones moved to, where they are not yet.
   */
  describe('with every declared key of the state scripts present', () => {
    async function everyDeclaredKey(account: Awaited<ReturnType<typeof lockedAccount>>) {
      const { redis, k, ip } = account;
      const ah = t.lockout.addressId(ip);
      await redis.zadd(k.emailPending, Date.now(), 'in-flight-attempt');
      await redis.pexpire(k.emailPending, 60_000);
      await redis.set(k.emailLock, String(Date.now() + 60_000), 'PX', 60_000);
      await redis.zadd(k.known, Date.now(), 'home-address');
      await redis.pexpire(k.known, 60_000);
      await redis.set(k.unlocks, '1', 'PX', 300_000);
      await redis.sadd(k.legacyAddresses, ah);
      await redis.pexpire(k.legacyAddresses, 300_000);
      await redis.hset(k.streakParcel, 'id', 'parcel-1', 'count', '0');
      await redis.pexpire(k.streakParcel, 60_000);
      return [k.seen, k.emailPending, k.emailStreak, k.emailLock, k.known, k.legacyAddresses, k.unlocks, k.streakParcel];
    }

    it('the admin state and unlock do not report a locked pair as unlocked while its keys have not moved', async () => {
      const account = await lockedAccount();
      const declared = await everyDeclaredKey(account);

      const result = await duringAndAfter(account, declared);

      // Documented: the state lists the account's addresses with their locks, and the unlock
      // returns (and audits as account_unlocked) the state it cleared; or 503 while Redis cannot answer.
      expectDocumented(result);
    });

    it('a pair key that already moved fails the script (non local key) as a 503, not a 500', async () => {
      const account = await lockedAccount();
      await everyDeclaredKey(account);

      const result = await duringAndAfter(account, [account.k.pairLock]);

      expectDocumented(result);
    });
  });
});
