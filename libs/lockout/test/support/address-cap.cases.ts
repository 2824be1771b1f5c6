import { lockoutKeys } from '../../src/lockout.keys';
import type { MemoryLockoutStore } from '../../src/lockout.memory-store';
import type { RedisLockoutStore } from '../../src/lockout.redis-store';
import { ONE_MINUTE_RULES } from './lockout-test-rules';
import { TEST_PASSWORD, type LoginTestApp } from './login-test-app';

const WRONG = 'wrong password';
export const CAP = 3;

/** One-minute windows and locks, 5 failures per pair, loose account and address ceilings. */
export const ONE_MINUTE_LIMITS = { ...ONE_MINUTE_RULES, emailMaxFailures: 100, ipMaxFailures: 50 };

/** Limits of the address-cap specs: a cap of 3, so a handful of addresses overflows it. */
export const ADDRESS_CAP_OPTIONS = { addressCap: CAP, ...ONE_MINUTE_LIMITS };

/** How many addresses the store holds in an account's list (the bounded memory an attack adds). */
export type StoredListLength = (t: LoginTestApp, email: string) => Promise<number>;

/** The length of the account's `seen` list in Redis. */
export const redisListLength: StoredListLength = async (t, email) => {
  const { redis, k } = inspect(t, email);
  return redis.zcard(k.seen);
};

/** The length of the account's address list in the in-memory store. */
export const memoryListLength: StoredListLength = async (t, email) => {
  const store = t.lockout['store'] as MemoryLockoutStore;
  const account = store['entries'].get(`e:${store.subject(email, '0.0.0.0').emailHash}`);
  return account?.kind === 'account' ? account.seen.size : 0;
};

/** The addresses the store holds as known (a successful login) for an account. */
export type StoredKnownAddresses = (t: LoginTestApp, email: string) => Promise<string[]>;

/** The members of the account's `known` set in Redis. */
export const redisKnownAddresses: StoredKnownAddresses = async (t, email) => {
  const { redis, k } = inspect(t, email);
  return redis.zrange(k.known, 0, -1);
};

/** The account's known addresses in the in-memory store. */
export const memoryKnownAddresses: StoredKnownAddresses = async (t, email) => {
  const store = t.lockout['store'] as MemoryLockoutStore;
  const account = store['entries'].get(`e:${store.subject(email, '0.0.0.0').emailHash}`);
  return account?.kind === 'account' ? [...account.known.keys()] : [];
};

/** The raw Redis client of a test app (its global key prefix applies) and the keys of a subject. */
export function inspect(t: LoginTestApp, email: string, ip = '0.0.0.0') {
  const store = t.lockout['store'] as RedisLockoutStore;
  return { redis: store['redis'], k: lockoutKeys(store.subject(email, ip)) };
}

/**
 * The account's list of addresses is bounded (`addressCap`): the behaviours an admin and a user rely
 * on when an attack comes from more addresses than the cap. Shared by the single-Redis, the
 * in-memory and the Cluster suites (lockout.address-cap.spec.ts, lockout.cluster.spec.ts).
 */
export function describeAddressCap(
  start: () => Promise<LoginTestApp>,
  storedListLength: StoredListLength = redisListLength,
  storedKnownAddresses: StoredKnownAddresses = redisKnownAddresses,
): void {
  let t: LoginTestApp;

  beforeAll(async () => {
    t = await start();
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  async function fail(email: string, ip: string, times = 1): Promise<void> {
    for (let i = 0; i < times; i++) expect((await t.login(email, WRONG, ip)).status).toBe(401);
  }

  it('keeps exactly the cap of most recent addresses, and the state lists only those', async () => {
    const email = 'cap@example.com';
    for (let i = 1; i <= CAP + 4; i++) await fail(email, `10.7.0.${i}`);

    expect(await storedListLength(t, email)).toBe(CAP);
    const state = await t.lockout.getState(email);
    expect(state.addresses.map((a) => a.address).sort()).toEqual([5, 6, 7].map((i) => t.lockout.addressId(`10.7.0.${i}`)).sort());
    expect(state.emailFailures).toBe(CAP + 4);
  });

  it('keeps only the cap of most recent known addresses, however many addresses log in', async () => {
    // Logins with the right password from ever new addresses (an account's owner rotating IPv6 /64s)
    // must not grow one key without bound for the known-address lifetime.
    const email = 'known@example.com';
    for (let i = 1; i <= CAP + 4; i++) expect((await t.login(email, TEST_PASSWORD, `10.6.0.${i}`)).status).toBe(200);

    expect((await storedKnownAddresses(t, email)).sort()).toEqual([5, 6, 7].map((i) => t.lockout.addressId(`10.6.0.${i}`)).sort());
  });

  it('still refuses a locked address after it was dropped from the list, until an admin unlocks', async () => {
    const email = 'evicted@example.com';
    await fail(email, '10.8.0.1', 5);
    await fail(email, '10.8.0.2', 4);
    for (let i = 3; i < 3 + CAP; i++) await fail(email, `10.8.0.${i}`);
    const listed = (await t.lockout.getState(email)).addresses.map((a) => a.address);
    expect(listed).not.toContain(t.lockout.addressId('10.8.0.1'));
    expect(listed).not.toContain(t.lockout.addressId('10.8.0.2'));

    const refused = await t.login(email, TEST_PASSWORD, '10.8.0.1');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    await t.lockout.unlock(email, { adminId: 'admin', accountId: 'evicted' });
    expect((await t.login(email, TEST_PASSWORD, '10.8.0.1')).status).toBe(200);
    // Counts restart for dropped addresses too: 4 earlier failures + 1 would have locked the pair.
    await fail(email, '10.8.0.2');
    expect((await t.login(email, TEST_PASSWORD, '10.8.0.2')).status).toBe(200);
  });

  it('keeps a lock that started after an unlock when its address is dropped later', async () => {
    const email = 'relocked@example.com';
    await fail(email, '10.9.0.1', 2);
    await t.lockout.unlock(email, { adminId: 'admin', accountId: 'relocked' });
    await fail(email, '10.9.0.2', 5);
    for (let i = 3; i < 3 + CAP; i++) await fail(email, `10.9.0.${i}`);
    expect((await t.lockout.getState(email)).addresses.map((a) => a.address)).not.toContain(t.lockout.addressId('10.9.0.2'));

    expect((await t.login(email, TEST_PASSWORD, '10.9.0.2')).status).toBe(429);
    await t.lockout.unlock(email, { adminId: 'admin', accountId: 'relocked' });
    expect((await t.login(email, TEST_PASSWORD, '10.9.0.2')).status).toBe(200);
  });
}
