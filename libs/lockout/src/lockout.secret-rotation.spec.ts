import { uniqueKeyPrefix } from '@nest-hardening/testing';

import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';

jest.setTimeout(20_000);

const WRONG = 'wrong password';
const OLD = 'the lockout key secret before the rotation';
const NEW = 'the lockout key secret after the rotation!';

const OPTIONS = {
  pairMaxFailures: 5,
  pairWindowMs: 60_000,
  baseLockMs: 30_000,
  maxLockMs: 60_000,
  backoffResetMs: 60_000,
  emailMaxFailures: 8,
  emailWindowMs: 60_000,
  emailLockMs: 60_000,
  ipMaxFailures: 12,
  ipWindowMs: 60_000,
  ipBlockMs: 60_000,
};

const ACCOUNTS = [
  'alice@example.com',
  'bob@example.com',
  'carol@example.com',
  'dave@example.com',
  'erin@example.com',
  'frank@example.com',
  'grace@example.com',
];

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
