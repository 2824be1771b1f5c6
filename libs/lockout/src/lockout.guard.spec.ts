import type { Redis } from 'ioredis';

import { REDIS_CLIENT } from '@nest-hardening/redis';

import { ONE_MINUTE_RULES, TEST_ACCOUNTS } from '../test/support/lockout-test-rules';
import { startLoginTestApp, TEST_PASSWORD, type LoginTestApp } from '../test/support/login-test-app';
import { ACCOUNT_LOCKED_MESSAGE } from './account-locked.error';

jest.setTimeout(20_000);

const WRONG = 'wrong password';
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// Lock windows shrunk to seconds; the rules are the production ones.
const OPTIONS = { ...ONE_MINUTE_RULES, baseLockMs: 1_000, maxLockMs: 8_000 };
const ACCOUNTS = TEST_ACCOUNTS;

// The same scenarios on real Redis (the default store) and on the in-memory store adopters use in unit tests.
const STORES = [
  ['real Redis', 'redis'],
  ['in-memory store, no Redis', 'memory'],
] as const;

describe.each(STORES)('LockoutGuard on a login route (%s)', (_name, store) => {
  let t: LoginTestApp;

  beforeAll(async () => {
    t = await startLoginTestApp({ ...OPTIONS, store }, ACCOUNTS);
  });
  afterAll(async () => {
    await t.close();
  });

  async function failTimes(email: string, ip: string, times: number): Promise<void> {
    for (let i = 0; i < times; i++) expect((await t.login(email, WRONG, ip)).status).toBe(401);
  }

  async function waitUntilUnlocked(email: string): Promise<void> {
    for (let i = 0; i < 50; i++) {
      const state = await t.lockout.getState(email);
      if (!state.locked) return;
      await sleep(Math.max(20, state.lockedUntil!.getTime() - Date.now() + 20));
    }
    throw new Error('account stayed locked');
  }

  it('locks the pair on the 5th failure: the right password then gets 429 + Retry-After and is not checked', async () => {
    const email = 'alice@example.com';
    const ip = '10.0.1.1';
    await failTimes(email, ip, 5);
    const verified = t.verifications();

    const locked = await t.login(email, TEST_PASSWORD, ip);

    expect(locked.status).toBe(429);
    expect(locked.headers['retry-after']).toBe('1');
    expect(locked.body).toEqual({ statusCode: 429, message: ACCOUNT_LOCKED_MESSAGE, retryAfter: 1 });
    expect(t.verifications()).toBe(verified);
    const state = await t.lockout.getState(email, ip);
    expect(state.locked).toBe(true);
    // Retry-After never points before the real unlock.
    expect(Date.now() + Number(locked.headers['retry-after']) * 1000).toBeGreaterThanOrEqual(state.lockedUntil!.getTime());

    await waitUntilUnlocked(email);
    expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(200);
  });

  it('doubles the lock on the next lock of the same pair (backoff survives a successful login)', async () => {
    const email = 'bob@example.com';
    const ip = '10.0.2.1';
    await failTimes(email, ip, 5);
    expect((await t.login(email, WRONG, ip)).headers['retry-after']).toBe('1');
    await waitUntilUnlocked(email);
    expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(200);

    // The success reset the count: five more failures are needed, and the lock is now 2 s.
    await failTimes(email, ip, 5);
    const second = await t.login(email, TEST_PASSWORD, ip);

    expect(second.status).toBe(429);
    expect(second.headers['retry-after']).toBe('2');
    const state = await t.lockout.getState(email);
    expect(state.backoffLevel).toBe(2);
    expect(state.addresses.find((a) => a.address === t.lockout.addressId(ip))?.backoffLevel).toBe(2);
  });

  it('never extends a lock because of failures made while it is active', async () => {
    const email = 'carol@example.com';
    const ip = '10.0.3.1';
    await failTimes(email, ip, 5);
    const before = await t.lockout.getState(email);
    const verified = t.verifications();

    for (let i = 0; i < 10; i++) expect((await t.login(email, WRONG, ip)).status).toBe(429);

    const after = await t.lockout.getState(email);
    expect(after.lockedUntil).toEqual(before.lockedUntil);
    expect(after.backoffLevel).toBe(1);
    expect(t.verifications()).toBe(verified);
    await waitUntilUnlocked(email);
    expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(200);
  });

  it('lets at most 5 of 50 concurrent wrong logins reach password verification', async () => {
    const email = 'dave@example.com';
    const ip = '10.0.4.1';
    const verified = t.verifications();

    const responses = await Promise.all(Array.from({ length: 50 }, () => t.login(email, WRONG, ip)));

    const verifications = t.verifications() - verified;
    expect(verifications).toBeLessThanOrEqual(5);
    expect(responses.filter((r) => r.status === 401)).toHaveLength(verifications);
    expect(responses.filter((r) => r.status === 429).length).toBeGreaterThanOrEqual(45);
    expect(responses.filter((r) => r.status === 429).every((r) => Number(r.headers['retry-after']) >= 1)).toBe(true);
    expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(429);
  });

  it('treats an unknown email exactly like a known one (same statuses, bodies and Retry-After)', async () => {
    const run = async (email: string, ip: string) => {
      const seen: unknown[] = [];
      for (const password of [WRONG, WRONG, WRONG, WRONG, WRONG, TEST_PASSWORD]) {
        const res = await t.login(email, password, ip);
        seen.push([res.status, res.body, res.headers['retry-after']]);
      }
      return seen;
    };
    const known = await run('erin@example.com', '10.0.5.1');
    const unknown = await run('nobody-here@example.com', '10.0.5.2');

    expect(unknown).toEqual(known);
    expect(known[5]).toEqual([429, { statusCode: 429, message: ACCOUNT_LOCKED_MESSAGE, retryAfter: 1 }, '1']);
  });

  it('keeps a locked pair locked when a trusted proxy writes the address in another notation', async () => {
    const email = 'oscar@example.com';
    await failTimes(email, '10.7.1.1', 5);
    const verified = t.verifications();
    for (const spelling of ['::ffff:10.7.1.1', '::ffff:a07:101', '0:0:0:0:0:ffff:10.7.1.1']) {
      expect([spelling, (await t.login(email, TEST_PASSWORD, spelling)).status]).toEqual([spelling, 429]);
    }
    expect(t.verifications()).toBe(verified);
  });

  it('does not lock the account for another address', async () => {
    const email = 'frank@example.com';
    await failTimes(email, '10.0.6.1', 5);
    expect((await t.login(email, TEST_PASSWORD, '10.0.6.1')).status).toBe(429);
    expect((await t.login(email, TEST_PASSWORD, '10.0.6.2')).status).toBe(200);
  });

  it('locks the account for every address at the email ceiling, except an address with a recent success', async () => {
    const email = 'grace@example.com';
    const home = '10.0.7.100';
    const emit = jest.spyOn(t.events, 'emit');
    expect((await t.login(email, TEST_PASSWORD, home)).status).toBe(200);

    await failTimes(email, '10.0.7.1', 5);
    await failTimes(email, '10.0.7.2', 3); // 8 failures across addresses: the ceiling

    expect((await t.login(email, TEST_PASSWORD, '10.0.7.3')).status).toBe(429);
    expect((await t.login(email, TEST_PASSWORD, '10.0.7.2')).status).toBe(429);
    expect((await t.lockout.getState(email)).emailLocked).toBe(true);
    expect(emit).toHaveBeenCalledWith(expect.objectContaining({ type: 'account_lock_email_ceiling', rule: 'email_ceiling' }));
    // The owner's login from the known address ends the streak and the lock for every address.
    expect((await t.login(email, TEST_PASSWORD, home)).status).toBe(200);
    expect(await t.lockout.getState(email)).toMatchObject({ emailLocked: false, emailFailures: 0 });
    // A lock lifted is reported like one an admin or a password change lifts, once.
    const lifted = emit.mock.calls.map(([event]) => event).filter((event) => event.type === 'account_unlocked');
    expect(lifted).toEqual([expect.objectContaining({ rule: 'known_address', pseudonymous: { email, ip: home } })]);
    expect((await t.login(email, TEST_PASSWORD, '10.0.7.3')).status).toBe(200);
    expect(emit.mock.calls.filter(([event]) => event.type === 'account_unlocked')).toHaveLength(1);
    emit.mockRestore();
  });

  it('blocks an address that sprays failures across many emails', async () => {
    const ip = '10.0.8.1';
    const emit = jest.spyOn(t.events, 'emit');
    for (let i = 0; i < 12; i++) expect((await t.login(`spray${i}@example.com`, WRONG, ip)).status).toBe(401);

    expect((await t.login('heidi@example.com', TEST_PASSWORD, ip)).status).toBe(429);
    expect((await t.login('heidi@example.com', TEST_PASSWORD, '10.0.8.2')).status).toBe(200);
    expect((await t.lockout.getState('heidi@example.com', ip)).ip?.blocked).toBe(true);
    expect(emit).toHaveBeenCalledWith(expect.objectContaining({ type: 'ip_spraying_blocked', pseudonymous: { ip } }));
    emit.mockRestore();
  });

  it('keeps at most 512 characters of a client-sent user agent with its attempts and their events', async () => {
    const email = 'ursula@example.com';
    const userAgent = `Mozilla/5.0 ${'x'.repeat(15_000)}`;
    const emit = jest.spyOn(t.events, 'emit');
    for (let i = 0; i < 5; i++) expect((await t.login(email, WRONG, '10.0.9.41', '/login', userAgent)).status).toBe(401);
    expect((await t.login(email, TEST_PASSWORD, '10.0.9.41', '/login', userAgent)).status).toBe(429);
    const reported = emit.mock.calls.flatMap(([event]) => (event.pseudonymous?.userAgent !== undefined ? [event] : []));
    emit.mockRestore();
    expect(reported.map((event) => event.type)).toContain('login_locked_out');
    for (const event of reported) expect(event.pseudonymous?.userAgent).toBe(userAgent.slice(0, 512));
  });

  it('admin unlock clears every lock, count and backoff level; login works at once', async () => {
    const email = ' Ivan@Example.com'; // normalised like the login route does
    const emit = jest.spyOn(t.events, 'emit');
    await failTimes(email, '10.0.9.1', 5);
    await failTimes(email, '10.0.9.2', 3);
    for (const ip of ['10.0.9.1', '10.0.9.2', '10.0.9.3']) expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(429);

    const previous = await t.lockout.unlock(email, { adminId: 'admin-1', accountId: 'account-42' });

    // The account's failures are counted since the last success: the lock does not reset them.
    expect(previous).toMatchObject({ locked: true, emailLocked: true, emailFailures: 8 });
    expect(previous.addresses.some((a) => a.locked && a.backoffLevel >= 1)).toBe(true);
    const cleared = await t.lockout.getState('ivan@example.com');
    expect(cleared).toMatchObject({ locked: false, emailLocked: false, emailFailures: 0, backoffLevel: 0, addresses: [] });
    expect(emit).toHaveBeenCalledWith(
      expect.objectContaining({
        type: 'account_unlocked',
        details: expect.objectContaining({ adminId: 'admin-1', accountId: 'account-42', previousLocked: true }),
      }),
    );
    for (const ip of ['10.0.9.1', '10.0.9.2', '10.0.9.3']) expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(200);
    expect((await t.lockout.unlock(email, { adminId: 'admin-1', accountId: 'account-42' })).locked).toBe(false);
    emit.mockRestore();
  });

  it('forgets known addresses on a password-change reset, which an admin unlock keeps', async () => {
    const email = 'trent@example.com';
    const [home, other] = ['10.0.10.1', '10.0.10.2'];
    for (const ip of [home, other]) expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(200);
    const known = () => t.lockout.getState(email).then((s) => s.addresses.filter((a) => a.lastSuccessAt !== null).length);
    expect(await known()).toBe(2);
    await t.lockout.unlock(email, { adminId: 'admin-1', accountId: 'account-43' });
    await failTimes(email, '10.0.10.3', 5);
    await failTimes(email, '10.0.10.4', 3); // the account-wide lock
    expect((await t.login(email, WRONG, other)).status).toBe(401); // still known: exempt

    await t.lockout.resetAfterPasswordChange(email, 'account-43');

    await failTimes(email, '10.0.10.5', 5);
    await failTimes(email, '10.0.10.6', 3);
    // The addresses that signed in with the old password count like any other now.
    for (const ip of [home, other]) expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(429);
  });

  it('forgets the address a superseded success made known, and keeps one a later success recorded', async () => {
    const email = 'victor@example.com';
    const ip = '10.0.10.7';
    const succeed = async () => {
      const decision = await t.lockout.reserve(email, ip);
      if (!decision.allowed) throw new Error('the attempt must be reserved');
      await t.lockout.recordSuccess(decision.reservation);
      return decision.reservation;
    };
    const known = () => t.lockout.getState(email).then((s) => s.addresses.some((a) => a.lastSuccessAt !== null));
    const stale = await succeed();
    await sleep(5);
    const later = await succeed();

    await t.lockout.recordSuperseded(stale);
    expect(await known()).toBe(true);
    await t.lockout.recordSuperseded(later);
    expect(await known()).toBe(false);
  });

  it('resets the pair count on a successful login: four failures, a success, four failures do not lock', async () => {
    const email = 'judy@example.com';
    const ip = '10.0.11.1';
    await failTimes(email, ip, 4);
    expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(200);
    await failTimes(email, ip, 4);

    expect((await t.login(email, TEST_PASSWORD, ip)).status).toBe(200);
    expect((await t.lockout.getState(email)).locked).toBe(false);
  });

  it('reports the state an admin reads: counts per address, the known address and the spraying budget', async () => {
    const email = 'mallory@example.com';
    const [home, away] = ['10.0.12.1', '10.0.12.2'];
    expect((await t.login(email, TEST_PASSWORD, home)).status).toBe(200);
    await failTimes(email, away, 3);
    await failTimes(email, home, 1);

    const state = await t.lockout.getState(email, away);

    expect(state).toMatchObject({
      locked: false,
      lockedUntil: null,
      emailLocked: false,
      emailFailures: 3,
      emailPending: 0,
      backoffLevel: 0,
    });
    // Most recent address first; only the address with a success is known.
    expect(state.addresses).toEqual([
      {
        address: t.lockout.addressId(home),
        locked: false,
        lockedUntil: null,
        backoffLevel: 0,
        failures: 1,
        pending: 0,
        lastSuccessAt: expect.any(Date),
      },
      {
        address: t.lockout.addressId(away),
        locked: false,
        lockedUntil: null,
        backoffLevel: 0,
        failures: 3,
        pending: 0,
        lastSuccessAt: null,
      },
    ]);
    expect(state.ip).toEqual({ address: t.lockout.addressId(away), blocked: false, blockedUntil: null, failures: 3, pending: 0 });
  });

  it('does not count or lock a request without a usable email (left to validation)', async () => {
    const verified = t.verifications();
    for (let i = 0; i < 7; i++) expect((await t.login('not-an-email', WRONG, '10.0.10.1')).status).toBe(401);
    // "not-an-email" is not countable, so it is verified every time and never locked
    expect(t.verifications() - verified).toBe(7);
  });
});

describe.each(STORES)('LockoutGuard at the email ceiling (%s)', (_name, store) => {
  let t: LoginTestApp;
  const EMAIL_LOCK_MS = 4_000;

  beforeAll(async () => {
    t = await startLoginTestApp({ ...OPTIONS, emailMaxFailures: 3, emailLockMs: EMAIL_LOCK_MS, store }, ['peggy@example.com']);
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers with Retry-After the time left of the ceiling lock, never more, and lets logins in once it has passed', async () => {
    const email = 'peggy@example.com';
    for (const ip of ['10.3.0.1', '10.3.0.2', '10.3.0.3']) expect((await t.login(email, WRONG, ip)).status).toBe(401);
    expect((await t.lockout.getState(email)).emailLocked).toBe(true);
    // Half the lock has passed (at least: the lock began before the last answer was sent).
    await sleep(EMAIL_LOCK_MS / 2);

    const locked = await t.login(email, TEST_PASSWORD, '10.3.0.4');

    expect(locked.status).toBe(429);
    const retryAfter = Number(locked.headers['retry-after']);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(EMAIL_LOCK_MS / 2 / 1000);
    await sleep(retryAfter * 1000);
    expect((await t.login(email, TEST_PASSWORD, '10.3.0.4')).status).toBe(200);
  });
});

describe.each(STORES)('LockoutService reservations that are never settled (%s)', (_name, store) => {
  let t: LoginTestApp;

  beforeAll(async () => {
    t = await startLoginTestApp({ ...OPTIONS, pairWindowMs: 1_000, store }, []);
  });
  afterAll(async () => {
    await t.close();
  });

  it('hold the pair budget only until their window ends', async () => {
    for (let i = 0; i < 5; i++) expect((await t.lockout.reserve('crash@example.com', '10.1.0.1')).allowed).toBe(true);
    const refused = await t.lockout.reserve('crash@example.com', '10.1.0.1');
    expect(refused).toMatchObject({ allowed: false, rule: 'pair' });

    await sleep(1_100);

    expect((await t.lockout.reserve('crash@example.com', '10.1.0.1')).allowed).toBe(true);
  });
});

describe('LockoutService success settlements while Redis is unreachable (real Redis)', () => {
  let t: LoginTestApp;

  beforeAll(async () => {
    t = await startLoginTestApp(OPTIONS, []);
  });
  afterAll(async () => {
    await t.close();
  });

  it('gives a right password back when recording its success failed, so it never counts as a pending failure', async () => {
    const [email, ip] = ['outage@example.com', '10.2.0.1'];
    const decision = await t.lockout.reserve(email, ip);
    if (!decision.allowed) throw new Error('the first attempt must be allowed');
    const redis = t.app.get<Redis>(REDIS_CLIENT);

    // Redis is unreachable for the success (the client's connection is closed), then back.
    const closed = new Promise((resolve) => redis.once('end', resolve));
    redis.disconnect();
    await t.lockout.recordSuccess(decision.reservation);
    await closed;
    await redis.connect();
    const pending = await t.lockout.getState(email, ip);
    expect([pending.emailPending, pending.addresses[0]?.pending, pending.ip?.pending]).toEqual([1, 1, 1]);

    // What the guard does once the response has been sent.
    await t.lockout.release(decision.reservation);
    const after = await t.lockout.getState(email, ip);
    expect([after.emailPending, after.addresses[0]?.pending ?? 0, after.ip?.pending]).toEqual([0, 0, 0]);
  });
});

describe.each(STORES)('LockoutService success settlements (%s)', (_name, store) => {
  let t: LoginTestApp;

  beforeAll(async () => {
    t = await startLoginTestApp({ ...OPTIONS, store }, []);
  });
  afterAll(async () => {
    await t.close();
  });

  it('records a success once: a second settlement of the same attempt, success or failure, changes nothing', async () => {
    const [email, ip] = ['twice@example.com', '10.2.0.2'];
    for (let i = 0; i < 4; i++) expect((await t.login(email, WRONG, ip)).status).toBe(401);
    const decision = await t.lockout.reserve(email, ip);
    if (!decision.allowed) throw new Error('the fifth attempt must be allowed');

    await t.lockout.recordSuccess(decision.reservation);
    await t.lockout.recordSuccess(decision.reservation);
    await t.lockout.recordFailure(decision.reservation);

    const state = await t.lockout.getState(email, ip);
    expect(state).toMatchObject({ locked: false, emailFailures: 0, emailPending: 0, ip: { failures: 4, pending: 0 } });
    expect(state.addresses).toEqual([expect.objectContaining({ failures: 0, pending: 0, lastSuccessAt: expect.any(Date) })]);
  });
});
