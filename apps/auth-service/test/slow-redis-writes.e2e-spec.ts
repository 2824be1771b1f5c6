import request from 'supertest';

import { REDIS_CLIENT, ScriptDeadlines, type RedisClient } from '@nest-hardening/redis';
import { SecurityEvents } from '@nest-hardening/security-events';

import {
  bearer,
  gatewaySignedHeaders,
  login,
  registerAndLogin,
  sessionIdOf,
  sleep,
  startRedisServer,
  startTestSystem,
  type TestRedisServer,
  type TestSystem,
} from '../../../test/support';
import { PasswordHasher } from '../src/accounts/password-hasher';
import { PasswordPolicy } from '../src/passwords/password-policy.service';

/**
 * Writes that Redis is too slow to answer are answered 503 ("not done, retry"). Redis runs the
 * calls it was sent once it resumes; a write that took effect then would leave state the client
 * never learnt of: a rotated refresh token it does not hold (its retry then ends the session as
 * reuse), or a session nobody holds a token for (listed, counted against the cap, and ending one
 * of the user's real sessions to make room for it). Each such write carries a deadline.
 */
describe('session writes while Redis stalls past the command timeout (own redis-server)', () => {
  let redis: TestRedisServer;
  let system: TestSystem;
  const ip = '198.51.100.8';
  const client = () => ({ pathPrefix: '', forwardedFor: ip, gatewaySecret: system.gatewaySecret });

  beforeAll(async () => {
    redis = await startRedisServer();
    system = await startTestSystem({
      label: 'slowwrites',
      env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300' },
      authEnv: { MAX_SESSIONS_PER_USER: '2', REFRESH_REUSE_GRACE_MS: '500', PASSWORD_CHANGE_MAX_FAILURES: '2' },
    });
  });

  afterAll(async () => {
    redis?.resume();
    await system?.close();
    await redis?.stop();
  });

  /** Straight at auth-service as the gateway forwards it: the write under test is the request's only stalled call. */
  const post = (path: string, body: object) =>
    request(system.authUrl)
      .post(path)
      .set('user-agent', 'jest-e2e/1.0')
      .set(gatewaySignedHeaders(system.gatewaySecret, 'POST', path, ip))
      .send(body);
  const loginRequest = (email: string, password: string) => post('/auth/login', { email, password });
  const refresh = (refreshToken: string) => post('/auth/refresh', { refreshToken });

  it('a refresh answered 503 leaves the refresh token current: a later retry rotates it and the session lives', async () => {
    const emit = jest.spyOn(system.auth.get(SecurityEvents), 'emit');
    const user = await registerAndLogin(system.authUrl, client());
    const first = await refresh(user.refreshToken);
    expect(first.status).toBe(200);

    const answered = await redis.stalled(() => refresh(first.body.refreshToken));
    expect(answered.status).toBe(503);
    // Redis runs the call it was sent; the client retries once it is back, after the grace window.
    await sleep(800);

    const retried = await refresh(first.body.refreshToken);
    expect(retried.status).toBe(200);
    expect((await request(system.authUrl).get('/me').set(bearer(retried.body.accessToken))).status).toBe(200);
    expect((await refresh(retried.body.refreshToken)).status).toBe(200);
    expect(emit).not.toHaveBeenCalledWith(expect.objectContaining({ type: 'refresh_token_reuse' }));
  });

  /** Runs `then` (once) in the login's next password verification, right after the password was checked. */
  const afterNextVerification = (then: () => void) => {
    const hasher = system.auth.get(PasswordHasher);
    const verify = hasher.verifyOrDummy.bind(hasher);
    jest.spyOn(hasher, 'verifyOrDummy').mockImplementationOnce(async (storedHash, password) => {
      const ok = await verify(storedHash, password);
      then();
      return ok;
    });
  };

  it('a login answered 503 creates no session once Redis resumes: none listed, none of the real ones ended by the cap', async () => {
    const first = await registerAndLogin(system.authUrl, client());
    const second = await login(system.authUrl, first.email, first.password, client());

    // Redis freezes once the password is verified: the rate limit and the reservation were
    // answered, the session write (sent with the lockout's success record) is the one that stalls.
    afterNextVerification(() => redis.pause());
    let answered: request.Response;
    try {
      answered = await loginRequest(first.email, first.password);
      await sleep(300);
    } finally {
      redis.resume();
    }
    expect(answered.status).toBe(503);
    // Redis runs the calls it was sent, now after their deadlines.
    await sleep(200);

    const listed = await request(system.authUrl).get('/me/sessions').set(bearer(second.accessToken));
    expect(listed.status).toBe(200);
    expect((listed.body as { id: string }[]).map((s) => s.id).sort()).toEqual(
      [sessionIdOf(first.accessToken), sessionIdOf(second.accessToken)].sort(),
    );
    expect((await refresh(first.refreshToken)).status).toBe(200);
    expect((await refresh(second.refreshToken)).status).toBe(200);
    // The retry logs in as usual.
    expect((await loginRequest(first.email, first.password)).status).toBe(200);
  });

  it('a session write Redis reports late even after a fresh reading of its clock is answered 503, and creates nothing', async () => {
    const user = await registerAndLogin(system.authUrl, client());
    // As after a step of Redis's clock: the session write's deadlines lie in the past.
    const deadlines = ScriptDeadlines.of(system.auth.get<symbol, RedisClient>(REDIS_CLIENT));
    let late: jest.SpyInstance | undefined;
    afterNextVerification(() => (late = jest.spyOn(deadlines, 'deadline').mockReturnValue(1)));
    try {
      expect((await loginRequest(user.email, user.password)).status).toBe(503);
    } finally {
      late?.mockRestore();
    }
    const listed = await request(system.authUrl).get('/me/sessions').set(bearer(user.accessToken));
    expect((listed.body as { id: string }[]).map((s) => s.id)).toEqual([sessionIdOf(user.accessToken)]);
  });

  it("a password change answered 503 spends none of the session's current-password checks once Redis resumes", async () => {
    const user = await registerAndLogin(system.authUrl, client());
    let currentPassword = user.password;
    const changePassword = (newPassword: string) =>
      request(system.authUrl)
        .post('/auth/password')
        .set(bearer(user.accessToken))
        .set(gatewaySignedHeaders(system.gatewaySecret, 'POST', '/auth/password', ip))
        .send({ currentPassword, newPassword });
    // A change that goes through first: from then on Redis knows the check's script (a late call of
    // a script it has not seen yet would only be refused with NOSCRIPT).
    expect((await changePassword('the first new passphrase of this user')).status).toBe(204);
    currentPassword = 'the first new passphrase of this user';

    // PASSWORD_CHANGE_MAX_FAILURES (2) changes, each answered 503: Redis freezes once the new password
    // is accepted, so the session's check is the call that stalls, and Redis runs it when it resumes.
    const policy = system.auth.get(PasswordPolicy);
    const assertAcceptable = policy.assertAcceptable.bind(policy);
    const stallAfterPolicy = jest.spyOn(policy, 'assertAcceptable');
    for (let i = 0; i < 2; i++) {
      stallAfterPolicy.mockImplementationOnce(async (...args) => {
        await assertAcceptable(...args);
        redis.pause();
      });
      let answered: request.Response;
      try {
        answered = await changePassword(`a passphrase set during a stall ${i}`);
        await sleep(300);
      } finally {
        redis.resume();
      }
      expect(answered.status).toBe(503);
      await sleep(200);
    }

    stallAfterPolicy.mockRestore();

    // No password was checked, let alone a wrong one: the change goes through, and the session lives.
    expect((await changePassword('the passphrase set once redis is back')).status).toBe(204);
    expect((await request(system.authUrl).get('/me').set(bearer(user.accessToken))).status).toBe(200);
  });

  it("sends the session write while the lockout's success record is on its way: both cost one round trip", async () => {
    const user = await registerAndLogin(system.authUrl, client());
    const redisClient = system.auth.get<symbol, RedisClient>(REDIS_CLIENT);
    const evalsha = redisClient.evalsha.bind(redisClient) as (...args: unknown[]) => Promise<unknown>;
    let inFlight = 0;
    let inFlightAtSessionWrite = -1;
    const calls = jest.spyOn(redisClient, 'evalsha').mockImplementation((...args: unknown[]) => {
      if (String(args[2]).startsWith(`{u:${user.id}}:s:`)) inFlightAtSessionWrite = inFlight;
      inFlight++;
      return evalsha(...args).finally(() => inFlight--);
    });
    try {
      expect((await loginRequest(user.email, user.password)).status).toBe(200);
    } finally {
      calls.mockRestore();
    }
    // The success record and the address's release, both unanswered when the session write went out.
    expect(inFlightAtSessionWrite).toBe(2);
  });
});
