import { request } from 'node:http';

import {
  bearer,
  callFrom,
  freshLoopbackIp,
  gatewaySignedHeaders,
  startTestSystem,
  TEST_PASSWORD,
  uniqueEmail,
  type TestSystem,
} from '../../../test/support';

/**
 * Finding 4 (direct X-Forwarded-For spoofing, direct registrations) and finding 11 (the 409 of a
 * registered email behind per-address and global registration budgets).
 *
 * Services believe a forwarded client address only from the gateway, proven by its signature;
 * anything else sent straight to a service (compose neighbour, SSRF) is judged by its socket
 * address. Each test speaks from loopback addresses of its own, so budgets do not interfere.
 */
describe('gateway trust and the service-side budgets', () => {
  const credentials = (email: string, password = TEST_PASSWORD) => ({ email, password });
  let forged = 0;
  /** An address from the documentation range, a new one on every call. */
  const forgedIp = () => `198.51.100.${(forged++ % 250) + 1}`;

  async function registered(system: TestSystem, label: string): Promise<string> {
    const email = uniqueEmail(label);
    const res = await callFrom(system.gatewayUrl, 'POST', '/api/auth/register', { from: freshLoopbackIp(), body: credentials(email) });
    expect(res.status).toBe(201);
    return email;
  }

  describe('with a login budget too large to matter (the lockout answers)', () => {
    let system: TestSystem;
    beforeAll(async () => {
      system = await startTestSystem({ label: 'trust-lock', authEnv: { RATE_LIMIT_AUTH_LIMIT: '1000' } });
    });
    afterAll(() => system?.close());

    it('locks a direct caller after 5 wrong passwords even with a fresh forged X-Forwarded-For on each guess', async () => {
      const email = await registered(system, 'forger');
      const from = freshLoopbackIp();
      for (let i = 0; i < 5; i++) {
        const res = await callFrom(system.authUrl, 'POST', '/auth/login', {
          from,
          body: credentials(email, `wrong password ${i}`),
          headers: { 'x-forwarded-for': forgedIp() },
        });
        expect(res.status).toBe(401);
      }
      const right = await callFrom(system.authUrl, 'POST', '/auth/login', {
        from,
        body: credentials(email),
        headers: { 'x-forwarded-for': forgedIp() },
      });
      expect(right.status).toBe(429);
      expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    });

    it("cannot lock a victim's address out of the gateway path by forging it straight to auth-service", async () => {
      const email = await registered(system, 'victim');
      const victimIp = freshLoopbackIp();
      const attacker = freshLoopbackIp();
      for (let i = 0; i < 6; i++) {
        await callFrom(system.authUrl, 'POST', '/auth/login', {
          from: attacker,
          body: credentials(email, `wrong ${i}`),
          headers: { 'x-forwarded-for': victimIp },
        });
      }
      const victim = await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from: victimIp, body: credentials(email) });
      expect(victim.status).toBe(200);
    });

    it('records the address the gateway signed, and the socket address for an unsigned, misdirected or tampered one', async () => {
      const email = await registered(system, 'signed');
      const login = async (headers: Record<string, string>) => {
        const res = await callFrom(system.authUrl, 'POST', '/auth/login', { from: '127.0.0.1', body: credentials(email), headers });
        expect(res.status).toBe(200);
        const sessions = await callFrom(system.authUrl, 'GET', '/me/sessions', {
          from: '127.0.0.1',
          headers: bearer(res.body.accessToken as string),
        });
        return (sessions.body as unknown as { current: boolean; ip: string }[]).find((s) => s.current)?.ip;
      };
      const signed = gatewaySignedHeaders(system.gatewaySecret, 'POST', '/auth/login', '203.0.113.7');
      expect(await login(signed)).toBe('203.0.113.7');
      expect(await login({ 'x-forwarded-for': '203.0.113.8' })).toBe('127.0.0.1');
      expect(await login(gatewaySignedHeaders(system.gatewaySecret, 'POST', '/auth/register', '203.0.113.9'))).toBe('127.0.0.1');
      expect(await login({ ...signed, 'x-forwarded-for': '203.0.113.10' })).toBe('127.0.0.1');
      expect(
        await login(gatewaySignedHeaders('another secret of at least thirty-two characters', 'POST', '/auth/login', '203.0.113.11')),
      ).toBe('127.0.0.1');
    });
  });

  // undici writes a request's head only together with the first chunk of its body. A gateway that
  // signed on receiving the head let a client choose how old the signature would be on arrival:
  // past GATEWAY_SIGNATURE_MAX_AGE_MS, the service judged the login by the gateway's address.
  describe('with a client that sends its body later than the signature max age', () => {
    let system: TestSystem;
    beforeAll(async () => {
      system = await startTestSystem({
        label: 'trust-late',
        // Budgets too large to matter: the lockout answers.
        env: { RATE_LIMIT_AUTH_LIMIT: '1000' },
        authEnv: { GATEWAY_SIGNATURE_MAX_AGE_MS: '1000' },
        // Below the services' max age, as docs/configuration.md asks.
        gatewayEnv: { UPSTREAM_TIMEOUT_MS: '900' },
      });
    });
    afterAll(() => system?.close());

    /** A login through the gateway whose head is sent at once and whose body follows 1.5 s later. */
    function lateLogin(from: string, body: object): Promise<{ status: number; body: Record<string, unknown> }> {
      const { hostname, port } = new URL(system.gatewayUrl);
      const payload = Buffer.from(JSON.stringify(body));
      const headers = { 'content-type': 'application/json', 'content-length': String(payload.length) };
      return new Promise((resolve, reject) => {
        const req = request(
          { host: hostname, port, method: 'POST', path: '/api/auth/login', localAddress: from, agent: false, headers },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (chunk: Buffer) => chunks.push(chunk));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) as Record<string, unknown> }),
            );
          },
        );
        req.on('error', reject);
        req.flushHeaders();
        setTimeout(() => req.end(payload), 1500);
      });
    }

    it("keeps a locked email and address locked, and records the client's address, however late the body comes", async () => {
      const email = await registered(system, 'late');
      const from = freshLoopbackIp();
      for (let i = 0; i < 5; i++) {
        const res = await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: credentials(email, `wrong ${i}`) });
        expect(res.status).toBe(401);
      }
      expect((await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: credentials(email) })).status).toBe(429);
      expect((await lateLogin(from, credentials(email))).status).toBe(429);

      const elsewhere = freshLoopbackIp();
      const res = await lateLogin(elsewhere, credentials(email));
      expect(res.status).toBe(200);
      const sessions = await callFrom(system.gatewayUrl, 'GET', '/api/me/sessions', {
        from: elsewhere,
        headers: bearer(res.body.accessToken as string),
      });
      expect((sessions.body as unknown as { current: boolean; ip: string }[]).find((s) => s.current)?.ip).toBe(elsewhere);
    });
  });

  describe('with the default budgets', () => {
    let system: TestSystem;
    beforeAll(async () => {
      system = await startTestSystem({ label: 'trust-budget' });
    });
    afterAll(() => system?.close());

    it('gives a client of the gateway exactly 5 logins per window, each charged once, with the budgets of both merged', async () => {
      const email = await registered(system, 'once');
      const from = freshLoopbackIp();
      for (let i = 1; i <= 5; i++) {
        const res = await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: credentials(email) });
        expect(res.status).toBe(200);
        expect(res.headers['x-ratelimit-remaining']).toBe(String(5 - i));
        // Only the gateway's budgets: the service did not charge a gateway-signed login again.
        expect(res.headers['ratelimit-policy']).toBe('"general";q=100;w=900, "auth";q=5;w=900');
      }
      expect((await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: credentials(email) })).status).toBe(429);

      // Registration spends the gateway's login budget and the service's global registration budget.
      const other = freshLoopbackIp();
      const reg = await callFrom(system.gatewayUrl, 'POST', '/api/auth/register', {
        from: other,
        body: credentials(uniqueEmail('merged')),
      });
      expect(reg.status).toBe(201);
      expect(reg.headers['ratelimit-policy']).toBe('"general";q=100;w=900, "auth";q=5;w=900, "registration";q=100;w=900');
      expect(reg.headers['x-ratelimit-remaining']).toBe('4');
    });

    it('limits direct logins per socket address, whatever X-Forwarded-For says', async () => {
      const email = await registered(system, 'direct');
      const from = freshLoopbackIp();
      for (let i = 0; i < 5; i++) {
        const res = await callFrom(system.authUrl, 'POST', '/auth/login', {
          from,
          body: credentials(email, `wrong ${i}`),
          headers: { 'x-forwarded-for': forgedIp() },
        });
        expect(res.status).toBe(401);
        expect(res.headers['ratelimit-policy']).toBe('"auth";q=5;w=900');
      }
      const sixth = await callFrom(system.authUrl, 'POST', '/auth/login', {
        from,
        body: credentials(email),
        headers: { 'x-forwarded-for': forgedIp() },
      });
      expect(sixth.status).toBe(429);
      expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    });

    it('limits direct registrations per socket address (5 per window), and the 409 of a known email with them', async () => {
      const from = freshLoopbackIp();
      const known = await registered(system, 'known');
      expect((await callFrom(system.authUrl, 'POST', '/auth/register', { from, body: credentials(known) })).status).toBe(409);
      for (let i = 0; i < 4; i++) {
        const res = await callFrom(system.authUrl, 'POST', '/auth/register', {
          from,
          body: credentials(uniqueEmail('bulk')),
          headers: { 'x-forwarded-for': forgedIp() },
        });
        expect(res.status).toBe(201);
      }
      expect((await callFrom(system.authUrl, 'POST', '/auth/register', { from, body: credentials(uniqueEmail('bulk')) })).status).toBe(429);
      expect((await callFrom(system.authUrl, 'POST', '/auth/register', { from, body: credentials(known) })).status).toBe(429);
    });

    it('limits direct refreshes per socket address with the refresh budget', async () => {
      const from = freshLoopbackIp();
      for (let i = 1; i <= 30; i++) {
        const res = await callFrom(system.authUrl, 'POST', '/auth/refresh', {
          from,
          body: { refreshToken: `not-a-token-${i}` },
          headers: { 'x-forwarded-for': forgedIp() },
        });
        expect(res.status).toBe(401);
      }
      expect((await callFrom(system.authUrl, 'POST', '/auth/refresh', { from, body: { refreshToken: 'not-a-token' } })).status).toBe(429);
    });
  });

  // A NAT46/SIIT translator in front of an IPv6-only gateway (RFC 7755, Cilium's NAT46) gives every
  // IPv4 client an address in the NAT64 well-known prefix 64:ff9b::/96 (RFC 6052): all of them in
  // one /64, which rate limiting and the lockout take as one IPv6 host.
  describe('behind a proxy that writes IPv4 clients in the NAT64 prefix', () => {
    let system: TestSystem;
    beforeAll(async () => {
      system = await startTestSystem({ label: 'trust-nat64', gatewayEnv: { TRUSTED_PROXIES: 'loopback' } });
    });
    afterAll(() => system?.close());

    it('gives each translated IPv4 client the login budget of its own IPv4 address, not one shared by all', async () => {
      const email = await registered(system, 'nat64');
      const login = (forwardedFor: string) =>
        callFrom(system.gatewayUrl, 'POST', '/api/auth/login', {
          from: freshLoopbackIp(),
          body: credentials(email),
          headers: { 'x-forwarded-for': forwardedFor },
        });
      for (let i = 0; i < 5; i++) expect((await login('64:ff9b::198.51.100.7')).status).toBe(200);
      // The same client, however it is spelled.
      expect((await login('64:ff9b::c633:6407')).status).toBe(429);
      expect((await login('198.51.100.7')).status).toBe(429);
      // Another IPv4 client through the same translator.
      const other = await login('64:ff9b::203.0.113.7');
      expect(other.status).toBe(200);
      const sessions = await callFrom(system.gatewayUrl, 'GET', '/api/me/sessions', {
        from: freshLoopbackIp(),
        headers: bearer(other.body.accessToken as string),
      });
      expect((sessions.body as unknown as { current: boolean; ip: string }[]).find((s) => s.current)?.ip).toBe('203.0.113.7');
    });
  });

  describe('with a global registration budget of 3', () => {
    let system: TestSystem;
    beforeAll(async () => {
      system = await startTestSystem({ label: 'trust-reg', authEnv: { RATE_LIMIT_REGISTRATION_LIMIT: '3' } });
    });
    afterAll(() => system?.close());

    it('refuses registrations from any address, through the gateway or not, once all clients together used it', async () => {
      const first = uniqueEmail('global');
      expect(
        (await callFrom(system.gatewayUrl, 'POST', '/api/auth/register', { from: freshLoopbackIp(), body: credentials(first) })).status,
      ).toBe(201);
      expect(
        (await callFrom(system.authUrl, 'POST', '/auth/register', { from: freshLoopbackIp(), body: credentials(uniqueEmail('global')) }))
          .status,
      ).toBe(201);
      expect(
        (await callFrom(system.gatewayUrl, 'POST', '/api/auth/register', { from: freshLoopbackIp(), body: credentials(first) })).status,
      ).toBe(409);
      for (const [url, path] of [
        [system.gatewayUrl, '/api/auth/register'],
        [system.authUrl, '/auth/register'],
      ]) {
        const known = await callFrom(url, 'POST', path, { from: freshLoopbackIp(), body: credentials(first) });
        expect(known.status).toBe(429);
        expect(Number(known.headers['retry-after'])).toBeGreaterThan(0);
        expect((await callFrom(url, 'POST', path, { from: freshLoopbackIp(), body: credentials(uniqueEmail('global')) })).status).toBe(429);
      }
      // Logins do not spend it.
      const login = await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from: freshLoopbackIp(), body: credentials(first) });
      expect(login.status).toBe(200);
    });
  });
});
