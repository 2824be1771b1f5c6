import { Redis } from 'ioredis';

import { deleteKeysWithPrefix, holdScriptCalls, TEST_REDIS_URL, uniqueKeyPrefix, type HeldScriptCalls } from '@nest-hardening/testing';

import { ONE_MINUTE_RULES, TEST_ACCOUNTS } from '../test/support/lockout-test-rules';
import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';
import { resolveLockoutOptions } from './lockout-options.interface';
import { RedisLockoutStore } from './lockout.redis-store';
import { PUT_ACCOUNT_STATE_SCRIPT, TAKE_ACCOUNT_STATE_SCRIPT } from './scripts/migrate.script';
import { UNLOCK_ACCOUNT_SCRIPT } from './scripts/state.script';

jest.setTimeout(20_000);

const WRONG = 'wrong password';
const OLD = 'the lockout key secret before the rotation';
const NEW = 'the lockout key secret after the rotation!';

const OPTIONS = ONE_MINUTE_RULES;
const ACCOUNTS = TEST_ACCOUNTS.slice(0, 7);

/**
 * A rotation of the lockout key secret, as instances of one service see it: `before` runs with the
 * old secret, `during` with the new one and the old as previous, `after` with the new one alone.
 */
describe('lockout key-secret rotation (real Redis)', () => {
  let before: LoginTestApp;
  let during: LoginTestApp;
  let after: LoginTestApp;

  beforeAll(async () => {
    const keyPrefix = uniqueKeyPrefix('lockrot');
    before = await startLoginTestApp({ ...OPTIONS, keyPrefix, keySecret: OLD }, ACCOUNTS);
    during = await startLoginTestApp({ ...OPTIONS, keyPrefix, keySecret: NEW, previousKeySecret: OLD }, ACCOUNTS);
    after = await startLoginTestApp({ ...OPTIONS, keyPrefix, keySecret: NEW }, ACCOUNTS);
  });
  afterAll(async () => {
    await Promise.all([before?.close(), during?.close(), after?.close()]);
  });

  async function fail(app: LoginTestApp, email: string, ip: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await app.login(email, WRONG, ip)).status).toBe(401);
  }

  it("keeps counting a pair's failures across the rotation, and the lock outlives the overlap", async () => {
    await fail(before, 'alice@example.com', '10.1.0.1', 3);
    await fail(during, 'alice@example.com', '10.1.0.1', 2);

    expect((await during.login('alice@example.com', TEST_PASSWORD, '10.1.0.1')).status).toBe(429);
    expect((await after.login('alice@example.com', TEST_PASSWORD, '10.1.0.1')).status).toBe(429);
    expect((await after.login('alice@example.com', TEST_PASSWORD, '10.1.0.2')).status).toBe(200);
  });

  it('keeps the account-wide lock and the known address that is exempt from it', async () => {
    const email = 'bob@example.com';
    expect((await before.login(email, TEST_PASSWORD, '10.2.0.1')).status).toBe(200);
    await fail(before, email, '10.2.0.2', 4);
    await fail(before, email, '10.2.0.3', 4);
    expect((await before.login(email, TEST_PASSWORD, '10.2.0.4')).status).toBe(429);

    expect((await during.login(email, TEST_PASSWORD, '10.2.0.4')).status).toBe(429);
    expect((await after.login(email, TEST_PASSWORD, '10.2.0.5')).status).toBe(429);
    // A login from the known address ends the account-wide lock, as it would without a rotation.
    expect((await during.login(email, TEST_PASSWORD, '10.2.0.1')).status).toBe(200);
  });

  it("keeps an address's spraying block", async () => {
    for (const email of ['carol@example.com', 'dave@example.com', 'erin@example.com']) await fail(before, email, '10.3.0.1', 4);
    expect((await during.login('alice@example.com', TEST_PASSWORD, '10.3.0.1')).status).toBe(429);
    expect((await after.login('alice@example.com', TEST_PASSWORD, '10.3.0.1')).status).toBe(429);
  });

  it('shows and unlocks state recorded under either secret during the overlap', async () => {
    const email = 'frank@example.com';
    await fail(before, email, '10.4.0.1', 5);
    const state = await during.lockout.getState(email);
    expect(state).toMatchObject({ locked: true, backoffLevel: 1 });
    expect(state.addresses.filter((a) => a.locked)).toHaveLength(1);

    await during.lockout.unlock(email, { adminId: 'admin', accountId: 'frank' });
    expect((await during.lockout.getState(email)).locked).toBe(false);
    expect((await before.lockout.getState(email)).locked).toBe(false);
    expect((await during.login(email, TEST_PASSWORD, '10.4.0.1')).status).toBe(200);
  });

  // A move from the names to themselves merged the state into itself and then removed what it
  // copied: every attempt erased the counts and locks it was checked against.
  it('refuses a previous key secret equal to the current one', () => {
    expect(() => resolveLockoutOptions({ keySecret: NEW, previousKeySecret: NEW })).toThrow(/previousKeySecret must differ from keySecret/);
    expect(resolveLockoutOptions({ keySecret: NEW, previousKeySecret: OLD }).previousKeySecret).toBe(OLD);
  });

  it('counts nothing twice, however often an account is seen during the overlap', async () => {
    const email = 'grace@example.com';
    await fail(before, email, '10.5.0.1', 2);
    await fail(during, email, '10.5.0.1', 1);
    await fail(during, email, '10.5.0.2', 1);
    // An instance still on the old secret alone (a rolling restart) writes under the old names again.
    await fail(before, email, '10.5.0.1', 1);
    await fail(during, email, '10.5.0.2', 1);

    const state = await during.lockout.getState(email);
    expect(state.emailFailures).toBe(6);
    expect(state.locked).toBe(false);
    // The last old-named failure of 10.5.0.1 moves when that address is next seen; until then it is listed apart.
    expect(state.addresses.map((a) => a.failures).sort()).toEqual([1, 2, 3]);
    expect((await after.lockout.getState(email)).emailFailures).toBe(6);
  });
});

/**
 * An admin unlock (or a password-change reset) racing a login that moves the account's state to the
 * new names: the unlock clears both name sets one slot at a time, the move copies and merges one
 * slot at a time. A gated client holds one script call so the other side runs in between.
 */
describe('key-secret rotation: an unlock concurrent with a move (real Redis)', () => {
  const LIMITS = { pairMaxFailures: 5, pairWindowMs: 60_000, baseLockMs: 60_000, maxLockMs: 60_000, backoffResetMs: 60_000 };
  const keyPrefix = uniqueKeyPrefix('lockrot-unlock');
  const clients: Redis[] = [];

  afterAll(async () => {
    clients.forEach((c) => c.disconnect());
    await deleteKeysWithPrefix(keyPrefix);
  });

  function client(): Redis {
    const c = new Redis(TEST_REDIS_URL, { keyPrefix });
    clients.push(c);
    return c;
  }

  function store(redis: Redis, secrets: { keySecret: string; previousKeySecret?: string }): RedisLockoutStore {
    return new RedisLockoutStore(redis, resolveLockoutOptions({ ...secrets, ...LIMITS }));
  }

  /** A client whose `nth` call of the script `sha` waits until `open()`; `reached` settles when it starts waiting. */
  function gatedClient(sha: string, nth: number): HeldScriptCalls<Redis> {
    let calls = 0;
    return holdScriptCalls(client(), ([called]) => called === sha && ++calls === nth);
  }

  /** Locks the pair (and builds a failure streak) under the old names only, as an instance before the rotation would. */
  async function lockUnderOldNames(email: string, ip: string): Promise<void> {
    const before = store(client(), { keySecret: OLD });
    for (let i = 0; i < LIMITS.pairMaxFailures; i++) {
      const r = await before.reserve(email, ip);
      if (!r.allowed) throw new Error('refused before the pair limit');
      await before.confirmFailure(r.reservation);
    }
    expect((await before.reserve(email, ip)).allowed).toBe(false);
  }

  it('keeps an unlock that returned between the copy and the merge of a move effective', async () => {
    const email = 'victim@example.com';
    const ip = '10.9.0.1';
    await lockUnderOldNames(email, ip);
    const gated = gatedClient(PUT_ACCOUNT_STATE_SCRIPT.sha, 1);
    const during = store(gated.client, { keySecret: NEW, previousKeySecret: OLD });
    const admin = store(client(), { keySecret: NEW, previousKeySecret: OLD });

    const attempt = during.reserve(email, ip); // copies the old state, then waits before merging it
    await gated.reached;
    expect(await admin.unlock(email)).toMatchObject({ locked: true, backoffLevel: 1 });
    expect((await admin.readState(email)).locked).toBe(false);
    gated.open();
    await attempt;

    // Nothing from before the unlock comes back: no pair lock, backoff level or failure streak.
    expect(await admin.readState(email)).toMatchObject({ locked: false, emailFailures: 0, backoffLevel: 0 });
    expect((await admin.reserve(email, ip)).allowed).toBe(true);
  });

  it('keeps an unlock effective when a move runs whole between its two steps', async () => {
    const email = 'between@example.com';
    const ip = '10.9.0.2';
    await lockUnderOldNames(email, ip);
    const gated = gatedClient(UNLOCK_ACCOUNT_SCRIPT.sha, 2);
    const admin = store(gated.client, { keySecret: NEW, previousKeySecret: OLD });
    const during = store(client(), { keySecret: NEW, previousKeySecret: OLD });

    const unlocking = admin.unlock(email); // clears one name set, then waits before the other
    await gated.reached;
    await during.reserve(email, ip);
    gated.open();
    const cleared = await unlocking;

    expect(await admin.readState(email)).toMatchObject({ locked: false, emailFailures: 0, backoffLevel: 0 });
    expect((await during.reserve(email, ip)).allowed).toBe(true);
    expect(cleared).toMatchObject({ locked: true, backoffLevel: 1 });
  });

  it('loses no failure recorded after the unlock when the move that copied it skips its merge', async () => {
    const email = 'after-unlock@example.com';
    const ip = '10.9.0.3';
    await lockUnderOldNames(email, ip);
    // The second copy of a move is the one it merges, taken after the unlock generation was read.
    const gated = gatedClient(TAKE_ACCOUNT_STATE_SCRIPT.sha, 2);
    const during = store(gated.client, { keySecret: NEW, previousKeySecret: OLD });
    const admin = store(client(), { keySecret: NEW, previousKeySecret: OLD });
    const before = store(client(), { keySecret: OLD });

    const attempt = during.reserve(email, ip);
    await gated.reached;
    await admin.unlock(email);
    // An instance still on the old secret alone records a failure after the unlock returned.
    const late = await before.reserve(email, ip);
    if (!late.allowed) throw new Error('refused after the unlock');
    await before.confirmFailure(late.reservation);
    gated.open();
    await attempt; // its copy holds the late failure, but the generation changed: not merged

    await admin.reserve(email, ip); // the next move merges it
    const state = await admin.readState(email, ip);
    expect(state).toMatchObject({ locked: false, emailFailures: 1, backoffLevel: 0 });
    expect(state.addresses.map((a) => a.failures)).toEqual([1]);
  });
});
