import { ONE_MINUTE_RULES } from '../test/support/lockout-test-rules';
import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';
import { normalizeLoginEmail } from './lockout.email';

jest.setTimeout(20_000);

/**
 * An admin unlock (and the state an admin reads, and a password change) starts from the account's
 * stored email, the form login normalised the typed one to; login keeps counting under the typed one.
 */
describe('admin unlock of an account whose address was typed in capitals', () => {
  // Greek capital iota with dialytika and tonos has no precomposed capital: ΐ once lower-cased.
  const typed = '\u03aa\u0301ris@example.com';
  let t: LoginTestApp;

  beforeAll(async () => {
    t = await startLoginTestApp({ ...ONE_MINUTE_RULES, pairMaxFailures: 3 }, [typed]);
  });
  afterAll(async () => {
    await t.close();
  });

  it('clears the lock its logins are refused under', async () => {
    const ip = '10.0.40.1';
    for (let i = 0; i < 3; i++) expect((await t.login(typed, 'wrong password', ip)).status).toBe(401);
    expect((await t.login(typed, TEST_PASSWORD, ip)).status).toBe(429);

    const stored = normalizeLoginEmail(typed);
    expect((await t.lockout.getState(stored)).locked).toBe(true);
    await t.lockout.unlock(stored, { adminId: 'admin-1', accountId: 'account-1' });

    expect((await t.login(typed, TEST_PASSWORD, ip)).status).toBe(200);
  });
});
