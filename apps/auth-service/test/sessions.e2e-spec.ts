import request from 'supertest';

import { SecurityEvents } from '@nest-hardening/security-events';

import {
  bearer,
  eventually,
  gatewaySignedHeaders,
  login,
  registerAndLogin,
  sessionIdOf,
  sleep,
  startTestSystem,
  type TestSystem,
  type TestUser,
} from '../../../test/support';

/** Session management through the gateway: list, end one, end others, password change, admin, cap, lifetimes, fingerprint. */

// Generous budgets: this suite is about sessions, the rate-limit suite tests limits.
const lenient = { RATE_LIMIT_AUTH_LIMIT: '1000', RATE_LIMIT_GENERAL_LIMIT: '10000', RATE_LIMIT_REFRESH_LIMIT: '10000' };
const UA = 'jest-e2e/1.0'; // what registerAndLogin and login send by default

function helpers(system: () => TestSystem) {
  const api = () => request(system().gatewayUrl);
  const refresh = (refreshToken: string, userAgent = UA) =>
    api().post('/api/auth/refresh').set('user-agent', userAgent).send({ refreshToken });
  const gatewayStatus = async (token: string) => (await api().get('/api/me').set(bearer(token))).status;
  const profileStatus = async (token: string) => (await request(system().profileUrl).get('/profile').set(bearer(token))).status;
  const works = async (token: string) => (await gatewayStatus(token)) === 200 && (await profileStatus(token)) === 200;
  /** Refused by the gateway and by profile-service directly, within the 1 s revocation promise. */
  const refusedEverywhere = (token: string) =>
    eventually(async () => (await gatewayStatus(token)) === 401 && (await profileStatus(token)) === 401);
  const listSessions = (token: string) => api().get('/api/me/sessions').set(bearer(token));
  return { api, refresh, gatewayStatus, profileStatus, works, refusedEverywhere, listSessions };
}

describe('session management', () => {
  let system: TestSystem;
  const { api, refresh, works, refusedEverywhere, listSessions, gatewayStatus, profileStatus } = helpers(() => system);
  const admin = { email: 'root@example.com', password: 'bootstrap admin password' };

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'sessions',
      gatewayEnv: lenient,
      authEnv: { BOOTSTRAP_ADMIN_EMAIL: admin.email, BOOTSTRAP_ADMIN_PASSWORD: admin.password },
    });
  });

  afterAll(() => system?.close());

  it('lists two logins as two sessions, marks the current one, and shows no token material', async () => {
    const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
    const user = await registerAndLogin(system.gatewayUrl, { userAgent: firefox });
    const second = await login(system.gatewayUrl, user.email, user.password);

    const res = await listSessions(second.accessToken);
    expect(res.status).toBe(200);
    expect(res.body).toHaveLength(2);
    for (const session of res.body) {
      expect(Object.keys(session).sort()).toEqual(['createdAt', 'current', 'device', 'expiresAt', 'id', 'ip', 'lastSeenAt']);
    }
    const byId = new Map<string, Record<string, unknown>>(res.body.map((s: { id: string }) => [s.id, s]));
    expect(byId.get(sessionIdOf(second.accessToken))).toMatchObject({ current: true, device: 'jest-e2e/1.0' });
    expect(byId.get(sessionIdOf(user.accessToken))).toMatchObject({ current: false, device: 'Firefox 128 on Windows' });
    // The raw user agent is not kept: only the label the list shows.
    expect(JSON.stringify(res.body)).not.toContain('Gecko/20100101');
    const text = JSON.stringify(res.body);
    for (const secret of [user.refreshToken, second.refreshToken, user.accessToken, second.accessToken]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.split('.').pop());
    }

    // The other login sees the same two sessions with `current` on its own.
    const fromFirst = await listSessions(user.accessToken);
    expect(fromFirst.body.filter((s: { current: boolean }) => s.current).map((s: { id: string }) => s.id)).toEqual([
      sessionIdOf(user.accessToken),
    ]);
  });

  it('DELETE /api/me/sessions/:id ends that session everywhere and leaves the caller', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const other = await login(system.gatewayUrl, user.email, user.password);
    expect(await works(other.accessToken)).toBe(true);

    const started = Date.now();
    const del = await api()
      .delete(`/api/me/sessions/${sessionIdOf(other.accessToken)}`)
      .set(bearer(user.accessToken));
    expect(del.status).toBe(204);
    expect(await refusedEverywhere(other.accessToken)).toBe(true);
    // Revocation propagation, printed for the record (the bound above is the 1 s promise).
    console.log(`revocation observed at gateway and profile-service ${Date.now() - started} ms after DELETE was sent`);
    expect((await refresh(other.refreshToken)).status).toBe(401);
    expect(await works(user.accessToken)).toBe(true);
    expect((await listSessions(user.accessToken)).body.map((s: { id: string }) => s.id)).toEqual([sessionIdOf(user.accessToken)]);
  });

  it('revocation reaches the gateway and profile-service within 1 s even when both have just cached the token', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const other = await login(system.gatewayUrl, user.email, user.password);
    // Warm both services' "session is active" cache.
    expect(await gatewayStatus(other.accessToken)).toBe(200);
    expect(await profileStatus(other.accessToken)).toBe(200);

    const started = Date.now();
    expect(
      (
        await api()
          .delete(`/api/me/sessions/${sessionIdOf(other.accessToken)}`)
          .set(bearer(user.accessToken))
      ).status,
    ).toBe(204);
    const deleted = Date.now();
    let gatewayAt = 0;
    let profileAt = 0;
    const refused = await eventually(
      async () => {
        if (!gatewayAt && (await gatewayStatus(other.accessToken)) === 401) gatewayAt = Date.now();
        if (!profileAt && (await profileStatus(other.accessToken)) === 401) profileAt = Date.now();
        return gatewayAt > 0 && profileAt > 0;
      },
      1000,
      5,
    );
    console.log(
      `revocation propagation: DELETE took ${deleted - started} ms; refused by gateway after ${gatewayAt - deleted} ms, ` +
        `by profile-service after ${profileAt - deleted} ms (bound 1000 ms)`,
    );
    expect(refused).toBe(true);
  });

  it('DELETE /api/me/sessions ends every session but the current one', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const others = [await login(system.gatewayUrl, user.email, user.password), await login(system.gatewayUrl, user.email, user.password)];
    expect((await api().delete('/api/me/sessions').set(bearer(user.accessToken))).status).toBe(204);
    for (const other of others) {
      expect(await refusedEverywhere(other.accessToken)).toBe(true);
      expect((await refresh(other.refreshToken)).status).toBe(401);
    }
    expect(await works(user.accessToken)).toBe(true);
    expect((await refresh(user.refreshToken)).status).toBe(200);
    expect((await listSessions(user.accessToken)).body).toHaveLength(1);
  });

  it('two devices ending every other session at the same moment leave exactly one of them signed in', async () => {
    for (let round = 0; round < 5; round++) {
      const first = await registerAndLogin(system.gatewayUrl);
      const second = await login(system.gatewayUrl, first.email, first.password);
      const statuses = await Promise.all(
        [first, second].map(async (device) => (await api().delete('/api/me/sessions').set(bearer(device.accessToken))).status),
      );
      // The later of the two found its own session ended by the earlier: refused, and it ends nothing.
      expect([...statuses].sort()).toEqual([204, 401]);
      const survivor = statuses[0] === 204 ? first : second;
      const survivors = [];
      for (const device of [first, second]) if ((await refresh(device.refreshToken)).status === 200) survivors.push(device);
      expect(survivors).toEqual([survivor]);
    }
  });

  it("another user's session id gives the same 404 as a random id, and ends nothing", async () => {
    const alice = await registerAndLogin(system.gatewayUrl);
    const mallory = await registerAndLogin(system.gatewayUrl);
    const foreign = await api()
      .delete(`/api/me/sessions/${sessionIdOf(alice.accessToken)}`)
      .set(bearer(mallory.accessToken));
    const random = await api().delete('/api/me/sessions/AAAAAAAAAAAAAAAAAAAAAA').set(bearer(mallory.accessToken));
    expect(foreign.status).toBe(404);
    expect(random.status).toBe(404);
    expect(foreign.body).toEqual(random.body);
    expect(await works(alice.accessToken)).toBe(true);
  });

  it('an empty session id (DELETE /api/me/sessions/) is an unknown id: 404, and no other session ends', async () => {
    // What a client sends for `/api/me/sessions/${id}` when its id is empty.
    const user = await registerAndLogin(system.gatewayUrl);
    const other = await login(system.gatewayUrl, user.email, user.password);
    const viaGateway = await api().delete('/api/me/sessions/').set(bearer(user.accessToken));
    const direct = await request(system.authUrl).delete('/me/sessions/').set(bearer(user.accessToken));
    const random = await api().delete('/api/me/sessions/AAAAAAAAAAAAAAAAAAAAAA').set(bearer(user.accessToken));
    expect([viaGateway.status, direct.status]).toEqual([404, 404]);
    expect(viaGateway.body).toEqual(random.body);
    expect(await works(other.accessToken)).toBe(true);
    expect((await refresh(other.refreshToken)).status).toBe(200);
    expect((await listSessions(user.accessToken)).body).toHaveLength(2);
  });

  describe('password change', () => {
    let user: TestUser;
    let other: { accessToken: string; refreshToken: string };
    const newPassword = 'a brand new long password';

    beforeAll(async () => {
      user = await registerAndLogin(system.gatewayUrl);
      other = await login(system.gatewayUrl, user.email, user.password);
    });

    it('refuses a wrong current password with 401 and changes nothing', async () => {
      const res = await api()
        .post('/api/auth/password')
        .set(bearer(user.accessToken))
        .send({ currentPassword: 'not the password', newPassword });
      expect(res.status).toBe(401);
      expect(await works(other.accessToken)).toBe(true);
      await expect(login(system.gatewayUrl, user.email, user.password)).resolves.toBeDefined();
    });

    it('ends the other sessions before answering 204; the current one and the new password work, the old does not', async () => {
      const res = await api()
        .post('/api/auth/password')
        .set(bearer(user.accessToken))
        .send({ currentPassword: user.password, newPassword });
      expect(res.status).toBe(204);
      // Every session other than the caller's, including the one the previous test opened, has ended.
      expect(await refusedEverywhere(other.accessToken)).toBe(true);
      expect((await refresh(other.refreshToken)).status).toBe(401);
      expect(await works(user.accessToken)).toBe(true);
      expect((await listSessions(user.accessToken)).body.map((s: { id: string }) => s.id)).toEqual([sessionIdOf(user.accessToken)]);
      const refreshed = await refresh(user.refreshToken);
      expect(refreshed.status).toBe(200);
      expect(await works(refreshed.body.accessToken)).toBe(true);

      const old = await api().post('/api/auth/login').set('user-agent', UA).send({ email: user.email, password: user.password });
      expect(old.status).toBe(401);
      await expect(login(system.gatewayUrl, user.email, newPassword)).resolves.toMatchObject({ accessToken: expect.any(String) });
    });
  });

  describe('admin: DELETE /api/accounts/:id/sessions', () => {
    it('ends every session of that user', async () => {
      const adminTokens = await login(system.gatewayUrl, admin.email, admin.password);
      const user = await registerAndLogin(system.gatewayUrl);
      const second = await login(system.gatewayUrl, user.email, user.password);
      const res = await api().delete(`/api/accounts/${user.id}/sessions`).set(bearer(adminTokens.accessToken));
      expect(res.status).toBe(204);
      for (const tokens of [user, second]) {
        expect(await refusedEverywhere(tokens.accessToken)).toBe(true);
        expect((await refresh(tokens.refreshToken)).status).toBe(401);
      }
      expect(await works(adminTokens.accessToken)).toBe(true);
    });

    it('is forbidden to a non-admin (403) and ends nothing', async () => {
      const victim = await registerAndLogin(system.gatewayUrl);
      const user = await registerAndLogin(system.gatewayUrl);
      const res = await api().delete(`/api/accounts/${victim.id}/sessions`).set(bearer(user.accessToken));
      expect(res.status).toBe(403);
      expect(await works(victim.accessToken)).toBe(true);
    });
  });
});

describe('session cap (MAX_SESSIONS_PER_USER=3)', () => {
  let system: TestSystem;
  const { refresh, works, refusedEverywhere, listSessions } = helpers(() => system);

  beforeAll(async () => {
    system = await startTestSystem({ label: 'sessions-cap', gatewayEnv: lenient, authEnv: { MAX_SESSIONS_PER_USER: '3' } });
  });

  afterAll(() => system?.close());

  it('a 4th login ends the least recently refreshed session', async () => {
    const first = await registerAndLogin(system.gatewayUrl);
    const second = await login(system.gatewayUrl, first.email, first.password);
    await sleep(20);
    const third = await login(system.gatewayUrl, first.email, first.password);
    await sleep(20);
    // The first session is refreshed after the others were created: the second is now the stalest.
    const firstRefreshed = await refresh(first.refreshToken);
    expect(firstRefreshed.status).toBe(200);
    await sleep(20);

    const fourth = await login(system.gatewayUrl, first.email, first.password);
    expect(await refusedEverywhere(second.accessToken)).toBe(true);
    expect((await refresh(second.refreshToken)).status).toBe(401);
    for (const tokens of [firstRefreshed.body, third, fourth]) expect(await works(tokens.accessToken)).toBe(true);
    const ids = (await listSessions(fourth.accessToken)).body.map((s: { id: string }) => s.id).sort();
    expect(ids).toEqual([first, third, fourth].map((t) => sessionIdOf(t.accessToken)).sort());
  });
});

describe('session lifetimes (idle 1.5 s, absolute 4 s)', () => {
  let system: TestSystem;
  const { refresh, refusedEverywhere, listSessions } = helpers(() => system);

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'sessions-ttl',
      gatewayEnv: lenient,
      authEnv: { SESSION_IDLE_TTL_MS: '1500', SESSION_ABSOLUTE_TTL_MS: '4000' },
    });
  });

  afterAll(() => system?.close());

  it('a session not refreshed within the idle limit ends', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    await sleep(2000);
    expect((await refresh(user.refreshToken)).status).toBe(401);
    expect(await refusedEverywhere(user.accessToken)).toBe(true);
  });

  it('refreshing keeps a session alive past the idle limit, but never past the absolute limit', async () => {
    const user = await registerAndLogin(system.gatewayUrl);
    const [session] = (await listSessions(user.accessToken)).body as { createdAt: string }[];
    const absoluteEnd = Date.parse(session.createdAt) + 4000;
    let tokens = { accessToken: user.accessToken, refreshToken: user.refreshToken };
    let lastOk = Date.parse(session.createdAt);
    let ended = false;
    // Refresh every 300 ms for up to 10 s; the session must end on its own, at the absolute limit.
    for (let i = 0; i < 33 && !ended; i++) {
      await sleep(300);
      const res = await refresh(tokens.refreshToken);
      if (res.status !== 200) {
        expect(res.status).toBe(401);
        ended = true;
        break;
      }
      tokens = res.body;
      lastOk = Date.now();
      const list = await listSessions(tokens.accessToken);
      if (list.status === 401) {
        // The refresh landed just before the absolute limit and the session reached it since.
        expect(Date.now()).toBeGreaterThanOrEqual(absoluteEnd - 100);
        ended = true;
        break;
      }
      // Every expiry the server hands out stays within the absolute limit.
      expect(list.status).toBe(200);
      const [listed] = list.body as { expiresAt: string }[];
      expect(Date.parse(listed.expiresAt)).toBeLessThanOrEqual(absoluteEnd);
    }
    expect(ended).toBe(true);
    // It outlived the idle limit thanks to the refreshes...
    expect(lastOk - (absoluteEnd - 4000)).toBeGreaterThan(1500);
    // ...and the last successful refresh came before the absolute limit (server clock = this clock, same host).
    expect(lastOk).toBeLessThanOrEqual(absoluteEnd + 100);
    expect(await refusedEverywhere(tokens.accessToken)).toBe(true);
  });
});

describe('fingerprint policies', () => {
  describe('strict user agent (default)', () => {
    let system: TestSystem;
    const { refresh, refusedEverywhere } = helpers(() => system);

    beforeAll(async () => {
      system = await startTestSystem({ label: 'sessions-fp-strict', gatewayEnv: lenient });
    });

    afterAll(() => system?.close());

    it('refuses a refresh from another user agent and ends the session', async () => {
      const emit = jest.spyOn(system.auth.get(SecurityEvents), 'emit');
      const user = await registerAndLogin(system.gatewayUrl);
      expect((await refresh(user.refreshToken, 'curl/8.0')).status).toBe(401);
      // The legitimate client is locked out too: the session is revoked, not just the request refused.
      expect((await refresh(user.refreshToken)).status).toBe(401);
      expect(await refusedEverywhere(user.accessToken)).toBe(true);
      expect(emit).toHaveBeenCalledWith(expect.objectContaining({ type: 'fingerprint_mismatch', rule: 'revoked' }));
      emit.mockRestore();
    });
  });

  describe('log', () => {
    let system: TestSystem;
    const { refresh, works } = helpers(() => system);

    beforeAll(async () => {
      system = await startTestSystem({ label: 'sessions-fp-log', gatewayEnv: lenient, authEnv: { FINGERPRINT_USER_AGENT_POLICY: 'log' } });
    });

    afterAll(() => system?.close());
    afterEach(() => jest.restoreAllMocks());

    it('lets a refresh from another user agent through and reports fingerprint_mismatch', async () => {
      const emit = jest.spyOn(system.auth.get(SecurityEvents), 'emit');
      const user = await registerAndLogin(system.gatewayUrl);
      const res = await refresh(user.refreshToken, 'curl/8.0');
      expect(res.status).toBe(200);
      expect(await works(res.body.accessToken)).toBe(true);
      expect(emit).toHaveBeenCalledWith(
        expect.objectContaining({
          type: 'fingerprint_mismatch',
          severity: 'warning',
          rule: 'logged',
          details: expect.objectContaining({ userId: user.id, userAgentChanged: true, networkChanged: false }),
        }),
      );
    });

    it('treats an address change within the same /24 as the same client, and another /24 as a change', async () => {
      // Straight to auth-service with the client address signed as the gateway signs it.
      const direct = { pathPrefix: '', forwardedFor: '198.51.100.10', gatewaySecret: system.gatewaySecret };
      const user = await registerAndLogin(system.authUrl, direct);
      const emit = jest.spyOn(system.auth.get(SecurityEvents), 'emit');
      const refreshFrom = (ip: string, refreshToken: string) =>
        request(system.authUrl)
          .post('/auth/refresh')
          .set({ 'user-agent': UA, ...gatewaySignedHeaders(system.gatewaySecret, 'POST', '/auth/refresh', ip) })
          .send({ refreshToken });

      const sameNet = await refreshFrom('198.51.100.200', user.refreshToken);
      expect(sameNet.status).toBe(200);
      expect(emit).not.toHaveBeenCalledWith(expect.objectContaining({ type: 'fingerprint_mismatch' }));

      // The control case: another /24 is noticed (proves the header is read and compared).
      const otherNet = await refreshFrom('198.51.101.10', sameNet.body.refreshToken);
      expect(otherNet.status).toBe(200);
      expect(emit).toHaveBeenCalledWith(
        expect.objectContaining({
          type: 'fingerprint_mismatch',
          details: expect.objectContaining({ networkChanged: true, userAgentChanged: false }),
        }),
      );
    });
  });
});
