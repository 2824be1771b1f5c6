import { Client } from 'pg';
import request from 'supertest';

import { bearer, login, registerAndLogin, startTestSystem, uniqueEmail, type TestSystem } from '../../../test/support';
import { AuditTrail } from '../src/audit/audit-trail';

/**
 * Every timer and the monotonic clock stay real: only the wall clock of this process (what
 * `new Date()` and `Date.now()` read) runs `offsetMs` apart, as on an auth-service instance whose
 * clock is off (an NTP step not yet made, a VM resumed). Lockout and sessions take their time from
 * Redis, so only what reads the process's clock sees it.
 */
function wallClockOff(offsetMs: number): void {
  jest.useFakeTimers({
    now: Date.now() + offsetMs,
    advanceTimers: true,
    doNotFake: [
      'hrtime',
      'nextTick',
      'performance',
      'queueMicrotask',
      'setImmediate',
      'clearImmediate',
      'setInterval',
      'clearInterval',
      'setTimeout',
      'clearTimeout',
    ],
  });
}

/**
 * `?status=locked` lists an account while its lock is in force, whichever auth-service instances
 * recorded the lock, the unlock and the retention run, and however far their clocks are apart: the
 * index of locked accounts must not order events, or expire entries, by the clocks of instances.
 */
describe('the locked-accounts list with auth-service instances whose clocks disagree', () => {
  let system: TestSystem;
  const admin = { email: 'clock-admin@example.com', password: 'clock skew desk passphrase 7' };
  let adminToken: string;
  let db: Client;
  const WRONG = 'not the password at all';

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'lockclock',
      // Gateway 1 forwards to auth-service instance 1; each instance writes its own audit batches.
      extraAuthServices: 1,
      extraGateways: 1,
      gatewayEnv: { TRUSTED_PROXIES: 'loopback', RATE_LIMIT_AUTH_LIMIT: '10000', RATE_LIMIT_GENERAL_LIMIT: '100000' },
      authEnv: {
        BOOTSTRAP_ADMIN_EMAIL: admin.email,
        BOOTSTRAP_ADMIN_PASSWORD: admin.password,
        RATE_LIMIT_ADMIN_LIMIT: '10000',
        LOCKOUT_PAIR_MAX_FAILURES: '5',
        // Short enough that a lock ends within a realistic clock error of an instance.
        LOCKOUT_BASE_LOCK_MS: '20000',
        // Batches are written when the test flushes them, so it decides which instance writes first.
        AUDIT_FLUSH_INTERVAL_MS: '600000',
      },
    });
    db = new Client({ connectionString: system.database.url });
    await db.connect();
    adminToken = (await login(system.gatewayUrl, admin.email, admin.password, { forwardedFor: '10.61.0.1' })).accessToken;
  });

  afterEach(() => jest.useRealTimers());

  afterAll(async () => {
    await db?.end();
    await system?.close();
  });

  const loginVia = (gateway: number, email: string, password: string, ip: string) =>
    request(system.gatewayUrls[gateway]).post('/api/auth/login').set('x-forwarded-for', ip).send({ email, password });
  const lockedIds = async () => {
    const res = await request(system.gatewayUrl).get('/api/accounts?status=locked&limit=100').set(bearer(adminToken));
    expect(res.status).toBe(200);
    return (res.body.items as { id: string }[]).map((a) => a.id);
  };

  it('keeps an account locked again after an unlock listed when the instance that locked it runs 30 s behind', async () => {
    const [one, two] = system.authApps.map((app) => app.get(AuditTrail));
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('relockskew'), forwardedFor: '10.61.1.1' });
    // The guessing goes to instance 1, whose clock runs 30 s behind.
    const guess = async () => {
      wallClockOff(-30_000);
      for (let i = 0; i < 5; i++) expect((await loginVia(0, user.email, WRONG, '198.51.100.91')).status).toBe(401);
      jest.useRealTimers();
    };
    await guess();
    await one.flush();
    expect(await lockedIds()).toContain(user.id);

    // Instance 2 (on time) unlocks, but cannot write its batch for now (Postgres refuses it), so the
    // unlock reaches the index after the lock that follows it.
    await db.query(
      `CREATE FUNCTION refuse_unlocks() RETURNS trigger AS $$
       BEGIN IF NEW.type = 'account_unlocked' THEN RAISE EXCEPTION 'not now'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`,
    );
    await db.query('CREATE TRIGGER refuse_unlocks BEFORE INSERT ON security_events FOR EACH ROW EXECUTE FUNCTION refuse_unlocks()');
    try {
      const unlock = await request(system.gatewayUrls[1]).patch(`/api/accounts/${user.id}/unlock`).set(bearer(adminToken));
      expect(unlock.status).toBe(200);
      // After the unlock, the guessing resumes and locks the account again.
      await guess();
      await one.flush();
    } finally {
      await db.query('DROP TRIGGER refuse_unlocks ON security_events');
      await db.query('DROP FUNCTION refuse_unlocks()');
    }
    await two.flush();
    expect((await db.query("SELECT 1 FROM security_events WHERE type = 'account_unlocked' AND account_id = $1", [user.id])).rowCount).toBe(
      1,
    );

    // The account is locked (the right password is refused) and must be listed as such.
    expect((await loginVia(0, user.email, user.password, '198.51.100.91')).status).toBe(429);
    expect(await lockedIds()).toContain(user.id);
  });

  it('keeps a live lock listed through a retention run when the instance that locked it runs 30 s behind', async () => {
    const [one] = system.authApps.map((app) => app.get(AuditTrail));
    const user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('retainskew'), forwardedFor: '10.61.2.1' });
    // A lock of 20 s, recorded by an instance whose clock runs 30 s behind.
    wallClockOff(-30_000);
    for (let i = 0; i < 5; i++) expect((await loginVia(0, user.email, WRONG, '198.51.100.92')).status).toBe(401);
    jest.useRealTimers();
    await one.flush();
    // The hourly retention run, on an instance that is on time.
    await one.applyRetention();

    expect((await loginVia(0, user.email, user.password, '198.51.100.92')).status).toBe(429);
    expect(await lockedIds()).toContain(user.id);
  });
});
