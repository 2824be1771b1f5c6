import { Redis } from 'ioredis';

import { startRedisCluster, uniqueKeyPrefix, type TestRedisCluster } from '@nest-hardening/testing';

import { ADDRESS_CAP_OPTIONS, describeAddressCap } from '../test/support/address-cap.cases';
import { ONE_MINUTE_RULES, TEST_ACCOUNTS } from '../test/support/lockout-test-rules';
import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';
import { ACCOUNT_LOCKED_MESSAGE } from './account-locked.error';
import { lockoutKeys } from './lockout.keys';

jest.setTimeout(30_000);

const WRONG = 'wrong password';

// Shorter than the account lock, so an address block can end before a lock that also applies.
const OPTIONS = { ...ONE_MINUTE_RULES, ipBlockMs: 20_000 };
const ACCOUNTS = TEST_ACCOUNTS.slice(0, 6);

/**
 * The lockout rules on a real 3-master Redis Cluster, where an account's keys and an address's keys
 * live in different slots, so every login is reserved in two steps (address, then account).
 */
describe('lockout on a real 3-master Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let t: LoginTestApp;

  beforeAll(async () => {
    cluster = await startRedisCluster();
    t = await startLoginTestApp({ ...OPTIONS, clusterNodes: cluster.nodes }, ACCOUNTS);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await cluster?.stop();
  });

  async function failTimes(email: string, ip: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await t.login(email, WRONG, ip)).status).toBe(401);
  }

  it('keeps an account and an address in different slots (the case a single script cannot serve)', async () => {
    const k = lockoutKeys(t.lockout['store'].subject('alice@example.com', '10.0.0.1'));
    const node = new Redis(Number(cluster.nodes[0].split(':')[1]), '127.0.0.1');
    try {
      expect(await node.cluster('KEYSLOT', k.pairPending)).not.toBe(await node.cluster('KEYSLOT', k.ipPending));
    } finally {
      node.disconnect();
    }
  });

  it('lets at most 5 of 50 concurrent wrong logins reach password verification', async () => {
    const verified = t.verifications();
    const responses = await Promise.all(Array.from({ length: 50 }, () => t.login('alice@example.com', WRONG, '10.0.1.1')));

    expect(t.verifications() - verified).toBeLessThanOrEqual(5);
    expect(responses.filter((r) => r.status === 401).length).toBeLessThanOrEqual(5);
    expect(responses.filter((r) => r.status !== 401).every((r) => r.status === 429)).toBe(true);
    const state = await t.lockout.getState('alice@example.com', '10.0.1.1');
    expect(state.locked).toBe(true);
    // Refused attempts were given back to the address: only verified ones count against it.
    expect(state.ip).toMatchObject({ pending: 0, failures: t.verifications() - verified });
  });

  it('locks the pair on the 5th failure; the right password then gets 429 + Retry-After and is not checked', async () => {
    const email = 'bob@example.com';
    const ip = '10.0.2.1';
    await failTimes(email, ip, 5);
    const verified = t.verifications();

    const locked = await t.login(email, TEST_PASSWORD, ip);

    expect(locked.status).toBe(429);
    expect(locked.body).toEqual({ statusCode: 429, message: ACCOUNT_LOCKED_MESSAGE, retryAfter: 30 });
    expect(t.verifications()).toBe(verified);
    const state = await t.lockout.getState(email, ip);
    expect(Date.now() + Number(locked.headers['retry-after']) * 1000).toBeGreaterThanOrEqual(state.lockedUntil!.getTime());
    // Another address is not locked out of the account.
    expect((await t.login(email, TEST_PASSWORD, '10.0.2.2')).status).toBe(200);
  });

  it('locks the account for every address at the ceiling, except an address with a recent success', async () => {
    const email = 'carol@example.com';
    const home = '10.0.3.9';
    expect((await t.login(email, TEST_PASSWORD, home)).status).toBe(200);
    await failTimes(email, '10.0.3.1', 4);
    await failTimes(email, '10.0.3.2', 4); // 8 failures across addresses: the ceiling

    const stranger = await t.login(email, TEST_PASSWORD, '10.0.3.3');
    expect(stranger.status).toBe(429);
    expect(Number(stranger.headers['retry-after'])).toBeGreaterThanOrEqual(60);
    expect((await t.lockout.getState(email)).emailLocked).toBe(true);
    expect((await t.login(email, TEST_PASSWORD, home)).status).toBe(200);
    expect((await t.login(email, TEST_PASSWORD, '10.0.3.3')).status).toBe(200);
  });

  it('blocks an address that sprays failures across many emails', async () => {
    const ip = '10.0.4.1';
    for (let i = 0; i < 12; i++) expect((await t.login(`spray${i}@example.com`, WRONG, ip)).status).toBe(401);

    const blocked = await t.login('dave@example.com', TEST_PASSWORD, ip);
    expect(blocked.status).toBe(429);
    expect((await t.login('dave@example.com', TEST_PASSWORD, '10.0.4.2')).status).toBe(200);
    const state = await t.lockout.getState('dave@example.com', ip);
    expect(state.ip?.blocked).toBe(true);
    expect(Date.now() + Number(blocked.headers['retry-after']) * 1000).toBeGreaterThanOrEqual(state.ip!.blockedUntil!.getTime());
  });

  it('announces the account lock when the address step refuses and the account lock ends later', async () => {
    const email = 'erin@example.com';
    const ip = '10.0.6.1';
    for (let i = 0; i < 12; i++) expect((await t.login(`spray-late${i}@example.com`, WRONG, ip)).status).toBe(401);
    await failTimes(email, '10.0.6.2', 4);
    await failTimes(email, '10.0.6.3', 4);
    const state = await t.lockout.getState(email, ip);
    expect(state.lockedUntil!.getTime()).toBeGreaterThan(state.ip!.blockedUntil!.getTime());

    const refused = await t.login(email, TEST_PASSWORD, ip);

    expect(refused.status).toBe(429);
    expect(Date.now() + Number(refused.headers['retry-after']) * 1000).toBeGreaterThanOrEqual(state.lockedUntil!.getTime());
  });

  it('shows an account state across addresses, and admin unlock clears it so login works at once', async () => {
    const email = 'frank@example.com';
    await failTimes(email, '10.0.5.1', 5);
    await failTimes(email, '10.0.5.2', 3);
    for (const ip of ['10.0.5.1', '10.0.5.2', '10.0.5.3']) expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(429);
    const state = await t.lockout.getState(email);
    expect(state).toMatchObject({ locked: true, emailLocked: true, emailFailures: 8, backoffLevel: 1 });
    expect(state.addresses).toHaveLength(2);

    const previous = await t.lockout.unlock(email, { adminId: 'admin-1', accountId: 'account-7' });

    expect(previous).toMatchObject({ locked: true, emailLocked: true, emailFailures: 8 });
    expect(await t.lockout.getState(email)).toMatchObject({ locked: false, emailFailures: 0, backoffLevel: 0, addresses: [] });
    for (const ip of ['10.0.5.1', '10.0.5.2', '10.0.5.3']) expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(200);
  });
});

describe('lockout limits on a real 3-master Redis Cluster: address cap and key-secret rotation', () => {
  let cluster: TestRedisCluster;

  beforeAll(async () => {
    cluster = await startRedisCluster();
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  describe('address cap', () => {
    describeAddressCap(() =>
      startLoginTestApp({ ...ADDRESS_CAP_OPTIONS, clusterNodes: cluster.nodes }, [
        'cap@example.com',
        'evicted@example.com',
        'relocked@example.com',
        'known@example.com',
      ]),
    );
  });

  describe('key-secret rotation (state moves slot by slot)', () => {
    let before: LoginTestApp;
    let during: LoginTestApp;

    beforeAll(async () => {
      const keyPrefix = uniqueKeyPrefix('lockrot');
      const shared = { ...OPTIONS, keyPrefix, clusterNodes: cluster.nodes };
      before = await startLoginTestApp({ ...shared, keySecret: 'the lockout secret before' }, ACCOUNTS);
      during = await startLoginTestApp(
        { ...shared, keySecret: 'the lockout secret after', previousKeySecret: 'the lockout secret before' },
        ACCOUNTS,
      );
    }, 60_000);
    afterAll(async () => {
      await Promise.all([before?.close(), during?.close()]);
    });

    async function fail(app: LoginTestApp, email: string, ip: string, times: number): Promise<void> {
      for (let i = 0; i < times; i++) expect((await app.login(email, WRONG, ip)).status).toBe(401);
    }

    it('keeps counting failures made under the old secret, so the pair locks on the 5th', async () => {
      await fail(before, 'alice@example.com', '10.11.0.1', 3);
      await fail(during, 'alice@example.com', '10.11.0.1', 2);

      expect((await during.login('alice@example.com', TEST_PASSWORD, '10.11.0.1')).status).toBe(429);
      expect((await during.login('alice@example.com', TEST_PASSWORD, '10.11.0.2')).status).toBe(200);
    });

    it('still lets at most 5 of 50 concurrent wrong logins through when 4 failures were made under the old secret', async () => {
      await fail(before, 'bob@example.com', '10.11.1.1', 4);
      const verified = during.verifications();
      await Promise.all(Array.from({ length: 50 }, () => during.login('bob@example.com', WRONG, '10.11.1.1')));
      expect(during.verifications() - verified).toBe(1);
    });

    it('keeps the account-wide lock and the known address that is exempt from it', async () => {
      const email = 'carol@example.com';
      expect((await before.login(email, TEST_PASSWORD, '10.11.2.9')).status).toBe(200);
      await fail(before, email, '10.11.2.1', 4);
      await fail(before, email, '10.11.2.2', 4);

      expect((await during.login(email, TEST_PASSWORD, '10.11.2.3')).status).toBe(429);
      expect((await during.login(email, TEST_PASSWORD, '10.11.2.9')).status).toBe(200);
      expect((await during.lockout.getState(email, '10.11.2.9')).addresses.find((a) => a.lastSuccessAt !== null)).toBeDefined();
    });

    it('keeps an address spraying block made under the old secret', async () => {
      for (const email of ['spray-a@example.com', 'spray-b@example.com', 'spray-c@example.com']) await fail(before, email, '10.11.3.1', 4);
      expect((await during.login('dave@example.com', TEST_PASSWORD, '10.11.3.1')).status).toBe(429);
      expect((await during.lockout.getState('dave@example.com', '10.11.3.1')).ip?.blocked).toBe(true);
    });

    it('shows and unlocks an account whose state is under either secret', async () => {
      const email = 'erin@example.com';
      await fail(before, email, '10.11.4.1', 5);
      expect(await during.lockout.getState(email)).toMatchObject({ locked: true, backoffLevel: 1 });

      await during.lockout.unlock(email, { adminId: 'admin', accountId: 'erin' });
      expect((await before.lockout.getState(email)).locked).toBe(false);
      expect((await during.login(email, TEST_PASSWORD, '10.11.4.1')).status).toBe(200);
    });
  });
});
