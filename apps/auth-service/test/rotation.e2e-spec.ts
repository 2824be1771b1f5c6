import request from 'supertest';

import { SecurityEvents } from '@nest-hardening/security-events';

import { bearer, eventually, registerAndLogin, sleep, startTestSystem, type TestSystem, type TestTokens } from '../../../test/support';

/** Refresh-token rotation through the gateway: rotation, reuse detection, grace window, races. */

// Generous budgets: this suite is about rotation, the rate-limit suite tests limits.
const lenient = { RATE_LIMIT_AUTH_LIMIT: '1000', RATE_LIMIT_GENERAL_LIMIT: '10000', RATE_LIMIT_REFRESH_LIMIT: '10000' };
/** The user agent registerAndLogin logs in with; refreshes must come from the same client (strict fingerprint). */
const UA = { 'user-agent': 'jest-e2e/1.0' };

function helpers(system: () => TestSystem) {
  const api = () => request(system().gatewayUrl);
  const refresh = (refreshToken: string) => api().post('/api/auth/refresh').set(UA).send({ refreshToken });
  const gatewayStatus = async (token: string) => (await api().get('/api/me').set(bearer(token))).status;
  const profileStatus = async (token: string) => (await request(system().profileUrl).get('/profile').set(bearer(token))).status;
  /** The access token is refused by the gateway and by profile-service directly (within the 1 s promise). */
  const refusedEverywhere = (token: string) =>
    eventually(async () => (await gatewayStatus(token)) === 401 && (await profileStatus(token)) === 401);
  return { api, refresh, gatewayStatus, profileStatus, refusedEverywhere };
}

describe('refresh-token rotation (grace window 500 ms)', () => {
  let system: TestSystem;
  const { refresh, gatewayStatus, profileStatus, refusedEverywhere } = helpers(() => system);

  beforeAll(async () => {
    system = await startTestSystem({ label: 'rotation', gatewayEnv: lenient, authEnv: { REFRESH_REUSE_GRACE_MS: '500' } });
  });

  afterAll(() => system?.close());
  afterEach(() => jest.restoreAllMocks());

  it('returns new tokens, and the old refresh token is refused after the grace window', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const res = await refresh(user.refreshToken);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ accessToken: expect.any(String), refreshToken: expect.any(String), tokenType: 'Bearer', expiresIn: 900 });
    expect(res.body.accessToken).not.toBe(user.accessToken);
    expect(res.body.refreshToken).not.toBe(user.refreshToken);
    expect(await gatewayStatus(res.body.accessToken)).toBe(200);
    expect(await profileStatus(res.body.accessToken)).toBe(200);

    await sleep(800);
    expect((await refresh(user.refreshToken)).status).toBe(401);
  });

  it('reuse of a rotated token ends the session: the successor and its access token die, and an event is reported', async () => {
    const events = system.auth.get(SecurityEvents);
    const emit = jest.spyOn(events, 'emit');
    const user = await registerAndLogin(system.gatewayUrl);
    const successor = (await refresh(user.refreshToken)).body as TestTokens;
    expect(await gatewayStatus(successor.accessToken)).toBe(200);

    await sleep(800);
    const replay = await refresh(user.refreshToken);
    expect(replay.status).toBe(401);
    expect(replay.body).toEqual({ statusCode: 401, message: 'Invalid refresh token', error: expect.any(String) });

    // The live successor is dead too: the session ended.
    expect((await refresh(successor.refreshToken)).status).toBe(401);
    expect(await refusedEverywhere(successor.accessToken)).toBe(true);
    expect(await refusedEverywhere(user.accessToken)).toBe(true);

    const payload = JSON.parse(Buffer.from(user.accessToken.split('.')[1], 'base64url').toString());
    expect(emit).toHaveBeenCalledWith(
      expect.objectContaining({
        type: 'refresh_token_reuse',
        severity: 'critical',
        details: expect.objectContaining({ userId: user.id, sessionId: payload.sid, presentedGeneration: 0, currentGeneration: 1 }),
      }),
    );
  });
});

describe('refresh-token rotation (default grace window, 10 s)', () => {
  let system: TestSystem;
  const { refresh, gatewayStatus, profileStatus } = helpers(() => system);

  beforeAll(async () => {
    // The gateway believes X-Forwarded-For from loopback here, so a test can speak from several networks.
    system = await startTestSystem({ label: 'rotation-grace', gatewayEnv: { ...lenient, TRUSTED_PROXIES: 'loopback' } });
  });

  afterAll(() => system?.close());

  it('two refreshes with the same token inside the window get the same successor, which then works', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const first = await refresh(user.refreshToken);
    const second = await refresh(user.refreshToken);
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.body.refreshToken).toBe(first.body.refreshToken);
    // Each call still gets its own access token for the same session.
    expect(await gatewayStatus(first.body.accessToken)).toBe(200);
    expect(await gatewayStatus(second.body.accessToken)).toBe(200);

    const next = await refresh(first.body.refreshToken);
    expect(next.status).toBe(200);
    expect(next.body.refreshToken).not.toBe(first.body.refreshToken);
    expect(await gatewayStatus(next.body.accessToken)).toBe(200);
  });

  it('a replay inside the window from another network is reuse: the session ends', async () => {
    const from = (ip: string, refreshToken: string) =>
      request(system.gatewayUrl).post('/api/auth/refresh').set(UA).set('x-forwarded-for', ip).send({ refreshToken });
    const user = await registerAndLogin(system.gatewayUrl, { forwardedFor: '203.0.113.7' });
    const first = await from('203.0.113.8', user.refreshToken);
    expect(first.status).toBe(200);
    // The same network (/24) replaying within the window still gets the same successor...
    expect((await from('203.0.113.9', user.refreshToken)).body.refreshToken).toBe(first.body.refreshToken);
    // ...another network replaying it is treated as a stolen token.
    expect((await from('198.51.100.20', user.refreshToken)).status).toBe(401);
    expect((await from('203.0.113.8', first.body.refreshToken)).status).toBe(401);
    expect(await eventually(async () => (await gatewayStatus(first.body.accessToken)) === 401)).toBe(true);
  });

  it('50 concurrent refreshes with one token leave exactly one live successor and a live session', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(user.refreshToken)));
    expect(responses.map((r) => r.status)).toEqual(Array(50).fill(200));
    const successors = new Set(responses.map((r) => r.body.refreshToken as string));
    expect(successors.size).toBe(1);
    const [successor] = successors;
    expect(successor).not.toBe(user.refreshToken);

    // The one successor works once (and is rotated in turn); the session is alive afterwards.
    const next = await refresh(successor);
    expect(next.status).toBe(200);
    expect(next.body.refreshToken).not.toBe(successor);
    expect(await gatewayStatus(next.body.accessToken)).toBe(200);
    expect(await profileStatus(next.body.accessToken)).toBe(200);
    expect((await refresh(next.body.refreshToken)).status).toBe(200);
  });
});

describe('refresh-token rotation (grace window disabled)', () => {
  let system: TestSystem;
  const { refresh, refusedEverywhere } = helpers(() => system);

  beforeAll(async () => {
    system = await startTestSystem({ label: 'rotation-nograce', gatewayEnv: lenient, authEnv: { REFRESH_REUSE_GRACE_MS: '0' } });
  });

  afterAll(() => system?.close());

  it('50 concurrent refreshes with one token end the session as reuse', async () => {
    const emit = jest.spyOn(system.auth.get(SecurityEvents), 'emit');
    const user = await registerAndLogin(system.gatewayUrl);
    const responses = await Promise.all(Array.from({ length: 50 }, () => refresh(user.refreshToken)));
    const ok = responses.filter((r) => r.status === 200);
    expect(ok).toHaveLength(1);
    expect(responses.filter((r) => r.status === 401)).toHaveLength(49);

    // The one successor that was handed out is dead: the session ended.
    expect((await refresh(ok[0].body.refreshToken)).status).toBe(401);
    expect(await refusedEverywhere(ok[0].body.accessToken)).toBe(true);
    expect(emit).toHaveBeenCalledWith(expect.objectContaining({ type: 'refresh_token_reuse' }));
    emit.mockRestore();
  });
});
