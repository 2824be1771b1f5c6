import request from 'supertest';

import { REDIS_CLIENT, ScriptDeadlines, type RedisClient } from '@nest-hardening/redis';

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

/**
 * A login whose session Redis is too slow to create is answered 503 ("not logged in, retry").
 * Redis runs the session write it was sent once it resumes; if that write took effect, the user
 * would have a session nobody holds a token for, listed and counted against the cap, and a full
 * cap would end one of their real sessions to make room for it.
 */
describe('login while Redis stalls past the command timeout (own redis-server)', () => {
  let redis: TestRedisServer;
  let system: TestSystem;
  const ip = '198.51.100.8';
  const client = () => ({ pathPrefix: '', forwardedFor: ip, gatewaySecret: system.gatewaySecret });

  beforeAll(async () => {
    redis = await startRedisServer();
    system = await startTestSystem({
      label: 'loginslow',
      env: { REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: '300' },
      authEnv: { MAX_SESSIONS_PER_USER: '2' },
    });
  });

  afterAll(async () => {
    redis?.resume();
    await system?.close();
    await redis?.stop();
  });

  /** Straight at auth-service as the gateway forwards it. */
  const loginRequest = (email: string, password: string) =>
    request(system.authUrl)
      .post('/auth/login')
      .set('user-agent', 'jest-e2e/1.0')
      .set(gatewaySignedHeaders(system.gatewaySecret, 'POST', '/auth/login', ip))
      .send({ email, password });

  const refresh = (refreshToken: string) =>
    request(system.authUrl)
      .post('/auth/refresh')
      .set('user-agent', 'jest-e2e/1.0')
      .set(gatewaySignedHeaders(system.gatewaySecret, 'POST', '/auth/refresh', ip))
      .send({ refreshToken });

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
