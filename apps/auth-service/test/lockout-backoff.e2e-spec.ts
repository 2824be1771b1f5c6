import request from 'supertest';

import { ACCOUNT_LOCKED_MESSAGE, LockoutService } from '@nest-hardening/lockout';
import { SecurityEvents, type SecurityEvent } from '@nest-hardening/security-events';

import {
  login,
  startSmtpReceiver,
  startTestSystem,
  TEST_PASSWORD,
  uniqueEmail,
  type SmtpReceiver,
  type TestSystem,
} from '../../../test/support';

/**
 * Lock expiry and backoff through the real system, with 3-second locks (the first lock lasts 3 s,
 * the next one within the backoff memory 6 s), and the owner's lock email over a local SMTP receiver.
 * Waits are taken from Retry-After itself: waiting longer never changes an outcome, so a slow
 * machine cannot make these tests fail.
 */
describe('lockout expiry and backoff through the gateway', () => {
  let system: TestSystem;
  let smtp: SmtpReceiver;
  let adminToken: string;
  let emitSpy: jest.SpyInstance<void, [SecurityEvent]>;

  const BASE_LOCK_MS = 3000;
  const WRONG = 'not the right password';
  const ADMIN = { email: 'backoff-admin@example.com', password: 'admin password for backoff' };

  beforeAll(async () => {
    smtp = await startSmtpReceiver();
    system = await startTestSystem({
      label: 'lockout-backoff',
      gatewayEnv: { TRUSTED_PROXIES: 'loopback', RATE_LIMIT_AUTH_LIMIT: '10000', RATE_LIMIT_GENERAL_LIMIT: '100000' },
      authEnv: {
        BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
        BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
        LOCKOUT_PAIR_WINDOW_MS: '60000',
        LOCKOUT_BASE_LOCK_MS: String(BASE_LOCK_MS),
        LOCKOUT_MAX_LOCK_MS: '60000',
        LOCKOUT_BACKOFF_RESET_MS: '60000',
        LOCKOUT_NOTIFICATION_INTERVAL_MS: String(60 * 60 * 1000),
        SMTP_URL: smtp.url,
      },
    });
    emitSpy = jest.spyOn(system.auth.get(SecurityEvents), 'emit'); // calls through
    adminToken = (await login(system.gatewayUrl, ADMIN.email, ADMIN.password)).accessToken;
  });

  afterAll(async () => {
    await system?.close();
    await smtp?.close();
  });

  const api = () => request(system.gatewayUrl);
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const attempt = (email: string, password: string, ip: string) =>
    api().post('/api/auth/login').set({ 'x-forwarded-for': ip, 'user-agent': 'lockout-e2e/1.0' }).send({ email, password });
  const lockoutState = async (id: string) => {
    const res = await api()
      .get(`/api/accounts/${id}/lockout`)
      .set({ authorization: `Bearer ${adminToken}` });
    expect(res.status).toBe(200);
    return res.body as {
      locked: boolean;
      lockedUntil: string | null;
      backoffLevel: number;
      addresses: { address: string; failures: number; backoffLevel: number }[];
    };
  };

  async function register(label: string): Promise<{ id: string; email: string }> {
    const email = uniqueEmail(label);
    const res = await api().post('/api/auth/register').send({ email, password: TEST_PASSWORD });
    expect(res.status).toBe(201);
    return { id: res.body.id as string, email };
  }

  function retryAfterOf(res: request.Response): number {
    expect(res.status).toBe(429);
    const seconds = Number(res.headers['retry-after']);
    expect(res.body).toEqual({ statusCode: 429, message: ACCOUNT_LOCKED_MESSAGE, retryAfter: seconds });
    return seconds;
  }

  /**
   * Five wrong passwords, the fifth starting a lock. Returns the lock's end as the admin route
   * reports it and the interval [sentAt, answeredAt] of the fifth attempt, in which the lock started.
   */
  async function lockPair(id: string, email: string, ip: string) {
    for (let i = 0; i < 4; i++) expect((await attempt(email, WRONG, ip)).status).toBe(401);
    const sentAt = Date.now();
    expect((await attempt(email, WRONG, ip)).status).toBe(401);
    const answeredAt = Date.now();
    const retryAfter = retryAfterOf(await attempt(email, TEST_PASSWORD, ip));
    const state = await lockoutState(id);
    expect(state.locked).toBe(true);
    return { retryAfter, state, lockedUntil: new Date(state.lockedUntil as string).getTime(), sentAt, answeredAt };
  }

  /** The lock's length, known only to lie between these bounds (the clocks are the same machine's). */
  function expectLockLength(lock: Awaited<ReturnType<typeof lockPair>>, ms: number): void {
    const slack = 5; // Redis TIME vs Date.now() rounding
    expect(lock.lockedUntil - lock.answeredAt).toBeLessThanOrEqual(ms + slack);
    expect(lock.lockedUntil - lock.sentAt).toBeGreaterThanOrEqual(ms - slack);
    expect(lock.retryAfter).toBeGreaterThanOrEqual(1);
    expect(lock.retryAfter).toBeLessThanOrEqual(Math.ceil(ms / 1000));
  }

  it('lets the right password in once the lock has passed; the next lock doubles; one email for both locks', async () => {
    const user = await register('backoff');
    const ip = '10.88.0.1';
    const lockout = system.auth.get(LockoutService);
    const from = emitSpy.mock.calls.length;

    const first = await lockPair(user.id, user.email, ip);
    expectLockLength(first, BASE_LOCK_MS);
    expect(first.state.backoffLevel).toBe(1);

    // Retry-After is a promise: once it has passed, the lock is gone.
    await sleep(first.retryAfter * 1000);
    const second = await lockPair(user.id, user.email, ip);
    expectLockLength(second, 2 * BASE_LOCK_MS);
    expect(second.state.backoffLevel).toBe(2);
    expect(second.state.addresses).toEqual([expect.objectContaining({ address: lockout.addressId(ip), backoffLevel: 2 })]);

    const locks = emitSpy.mock.calls
      .slice(from)
      .map(([event]) => event)
      .filter((e) => e.type === 'account_locked');
    expect(locks.map((e) => e.details)).toEqual([
      { backoffLevel: 1, lockSeconds: BASE_LOCK_MS / 1000 },
      { backoffLevel: 2, lockSeconds: (2 * BASE_LOCK_MS) / 1000 },
    ]);

    await sleep(second.retryAfter * 1000);
    const res = await attempt(user.email, TEST_PASSWORD, ip);
    expect(res.status).toBe(200);
    expect(res.body.accessToken).toEqual(expect.any(String));
    // The success resets the pair's failures, not its backoff level (that decays on its own).
    const after = await lockoutState(user.id);
    expect(after).toMatchObject({ locked: false, backoffLevel: 2 });
    expect(after.addresses[0].failures).toBe(0);

    // Two locks within the notification interval: the owner gets exactly one email.
    await lockout.flushNotifications();
    const mails = smtp.messages.filter((m) => m.to.includes(user.email));
    expect(mails).toHaveLength(1);
    expect(mails[0].raw).toContain(ip);
    expect(mails[0].raw).toMatch(/lifts by itself/);
    expect(mails[0].raw).not.toContain(WRONG);
    expect(mails[0].raw).not.toContain(TEST_PASSWORD);
  });

  it('sends a mailbox one lock email an hour, however many spellings of its address an attacker registers', async () => {
    const mailbox = uniqueEmail('mailbox');
    const [local, domain] = mailbox.split('@');
    // Each is delivered to `mailbox`: a relay reads a quoted local part that needs no quotes, or an
    // escaped letter, as the letters themselves; nodemailer drops control characters and reads
    // Unicode line and paragraph separators as the space between a display name and the address.
    const spellings = [
      mailbox,
      `"${local}"@${domain}`,
      `"\\${local}"@${domain}`,
      `"${local}\u0001"@${domain}`,
      `x\u2028${mailbox}`,
      `${local}\u2029@${domain}`,
    ];
    for (const [i, email] of spellings.entries()) {
      const registered = await api().post('/api/auth/register').send({ email, password: TEST_PASSWORD });
      if (registered.status !== 201) {
        expect({ email, status: registered.status }).toEqual({ email, status: 400 });
        continue;
      }
      const ip = `10.89.0.${i + 1}`;
      for (let k = 0; k < 5; k++) expect((await attempt(email, WRONG, ip)).status).toBe(401);
      retryAfterOf(await attempt(email, TEST_PASSWORD, ip));
    }
    await system.auth.get(LockoutService).flushNotifications();
    expect(smtp.messages.filter((m) => m.to.includes(mailbox))).toHaveLength(1);
  });

  it('does not email anyone for a locked unknown email', async () => {
    const before = smtp.messages.length;
    const email = uniqueEmail('ghost');
    for (let i = 0; i < 5; i++) expect((await attempt(email, WRONG, '10.88.0.2')).status).toBe(401);
    retryAfterOf(await attempt(email, TEST_PASSWORD, '10.88.0.2'));
    await system.auth.get(LockoutService).flushNotifications();
    expect(smtp.messages).toHaveLength(before);
  });
});
