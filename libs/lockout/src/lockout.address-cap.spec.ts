import {
  ADDRESS_CAP_OPTIONS,
  CAP,
  describeAddressCap,
  inspect,
  memoryKnownAddresses,
  memoryListLength,
} from '../test/support/address-cap.cases';
import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';

jest.setTimeout(20_000);

const WRONG = 'wrong password';

describe('lockout address cap', () => {
  describe('on real Redis', () => {
    describeAddressCap(() =>
      startLoginTestApp(ADDRESS_CAP_OPTIONS, ['cap@example.com', 'evicted@example.com', 'relocked@example.com', 'known@example.com']),
    );
  });

  describe('on the in-memory store (no Redis)', () => {
    describeAddressCap(
      () =>
        startLoginTestApp({ ...ADDRESS_CAP_OPTIONS, store: 'memory' }, [
          'cap@example.com',
          'evicted@example.com',
          'relocked@example.com',
          'known@example.com',
        ]),
      memoryListLength,
      memoryKnownAddresses,
    );
  });

  describe('on real Redis, with an address set written by an earlier version', () => {
    let t: LoginTestApp;
    beforeAll(async () => {
      t = await startLoginTestApp(ADDRESS_CAP_OPTIONS, ['legacy@example.com']);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('lists its addresses, honours their locks and clears them on unlock, never answering 500', async () => {
      const email = 'legacy@example.com';
      const ip = '10.10.0.1';
      const { redis, k } = inspect(t, email, ip);
      // What an earlier version left: a pair lock found through the SET that `seen` replaces.
      await redis.set(k.pairLock, String(Date.now() + 30_000), 'PX', 30_000);
      await redis.set(k.pairLevel, '1', 'PX', 90_000);
      await redis.sadd(k.legacyAddresses, t.lockout.addressId(ip), 'another-address');
      await redis.pexpire(k.legacyAddresses, 200_000);

      const state = await t.lockout.getState(email);
      expect(state.locked).toBe(true);
      expect(state.addresses.find((a) => a.address === t.lockout.addressId(ip))).toMatchObject({ locked: true, backoffLevel: 1 });
      expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(429);
      expect((await t.login(email, WRONG, '10.10.0.2')).status).toBe(401);
      await redis.sadd(k.legacyAddresses, ...Array.from({ length: 20 }, (_, i) => `legacy-address-${i}`));
      expect((await t.lockout.getState(email)).addresses).toHaveLength(CAP);

      await t.lockout.unlock(email, { adminId: 'admin', accountId: 'legacy' });
      expect(await redis.exists(k.legacyAddresses)).toBe(0);
      expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(200);
    });
  });
});
