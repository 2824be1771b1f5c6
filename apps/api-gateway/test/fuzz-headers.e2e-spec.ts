import fc from 'fast-check';

import {
  contentType,
  forwardedFor,
  fuzzParameters,
  fuzzSuite,
  headerValueBytes,
  internalDetailIn,
  rawRequest,
  registerAndLogin,
  type RawResponse,
  type TestSystem,
  type TestUser,
} from '../../../test/support';

/**
 * Property-based fuzzing of header values through the gateway, written byte for byte on raw
 * sockets (Node's client refuses most of them): Authorization, X-Forwarded-For, Forwarded,
 * X-Real-IP, Content-Type, User-Agent; very long, Latin-1, UTF-8 and binary values. Seeded:
 * FUZZ_SEED, FUZZ_SCALE. Properties: no 5xx, nothing internal in a response, no access without a
 * valid token, hostile side headers neither break nor change a valid request, and a session
 * started with hostile headers records the real address and works on refresh.
 */
describe('fuzz: header values, through the gateway', () => {
  const fuzz = fuzzSuite('fuzz-headers');
  let system: TestSystem;
  let user: TestUser;

  beforeAll(async () => {
    system = fuzz.system;
    user = await registerAndLogin(system.gatewayUrl);
  });

  /** Node's parser answers 400 for control characters in a header and 431 for headers too large. */
  function refusedByParser(res: RawResponse, headers: [string, string | Buffer][]): boolean {
    if (res.status === 431) return true;
    const bytes = Buffer.concat(headers.map(([, v]) => (typeof v === 'string' ? Buffer.from(v, 'latin1') : v)));
    return res.status === 400 && bytes.some((b) => (b < 0x20 && b !== 0x09) || b === 0x7f);
  }

  function expectSafe(res: RawResponse, what: string): void {
    if (res.status >= 500) throw new Error(`${what} → ${res.status} ${res.body.slice(0, 300)}`);
    const leak = internalDetailIn(res.body) ?? internalDetailIn(Object.values(res.headers).join('\n'));
    if (leak) throw new Error(`${what} → ${res.status} reveals internals: ${JSON.stringify(leak)}`);
  }

  const describeHeaders = (headers: [string, string | Buffer][]) =>
    headers.map(([n, v]) => `${n}: ${JSON.stringify((typeof v === 'string' ? v : v.toString('latin1')).slice(0, 80))}`).join('; ');

  /** Side headers a client controls; none of them may grant or break anything. */
  const sideHeaders = fc
    .record({
      xff: fc.option(forwardedFor(), { nil: undefined }),
      forwarded: fc.option(headerValueBytes(100), { nil: undefined }),
      realIp: fc.option(headerValueBytes(60), { nil: undefined }),
      contentType: fc.option(contentType(), { nil: undefined }),
      userAgent: fc.option(headerValueBytes(600), { nil: undefined }),
    })
    .map((h) => {
      const list: [string, string | Buffer][] = [];
      if (h.xff) list.push(['X-Forwarded-For', h.xff]);
      if (h.forwarded) list.push(['Forwarded', h.forwarded]);
      if (h.realIp) list.push(['X-Real-IP', h.realIp]);
      if (h.contentType !== undefined) list.push(['Content-Type', h.contentType]);
      if (h.userAgent) list.push(['User-Agent', h.userAgent]);
      return list;
    });

  const protectedPaths = [
    '/api/me',
    '/api/me/sessions',
    '/api/profile',
    '/api/auth/logout',
    '/api/accounts/00000000-0000-4000-8000-000000000000/lockout',
  ];

  it('any Authorization bytes with any side headers: no 5xx, no leak, never accepted', async () => {
    const authorization = fc.oneof(
      headerValueBytes(400),
      headerValueBytes(400).map((v) => Buffer.concat([Buffer.from('Bearer '), v])),
      fc.constant(undefined).map(() => Buffer.from(`Bearer ${user.accessToken}\u00e9`, 'latin1')),
      fc.constant(undefined).map(() => Buffer.from(`Bearer ${user.accessToken.replace(/\./g, '\u00b7')}`, 'latin1')),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...protectedPaths),
        fc.constantFrom('GET', 'POST', 'DELETE'),
        authorization,
        sideHeaders,
        async (path, method, auth, side) => {
          const headers: [string, string | Buffer][] = [['Authorization', auth], ...side];
          const res = await rawRequest(system.gatewayUrl, { method, path, headers });
          const what = `${method} ${path} with ${describeHeaders(headers)}`;
          expectSafe(res, what);
          if (refusedByParser(res, headers)) return;
          expect({ what, status: res.status }).toEqual({ what, status: 401 });
        },
      ),
      fuzzParameters(700),
    );
  });

  it('a valid token with any side headers still gets exactly its own account', async () => {
    await fc.assert(
      fc.asyncProperty(sideHeaders, async (side) => {
        const headers: [string, string | Buffer][] = [['Authorization', `Bearer ${user.accessToken}`], ...side];
        const res = await rawRequest(system.gatewayUrl, { method: 'GET', path: '/api/me', headers });
        const what = `GET /api/me with ${describeHeaders(headers)}`;
        expectSafe(res, what);
        if (refusedByParser(res, headers)) return;
        expect({ what, status: res.status, id: res.status === 200 ? JSON.parse(res.body).id : undefined }).toEqual({
          what,
          status: 200,
          id: user.id,
        });
      }),
      fuzzParameters(400),
    );
  });

  it('a session started with hostile User-Agent and X-Forwarded-For records the real address and refreshes with the same headers', async () => {
    // Each case logs in (one password hash): few runs.
    await fc.assert(
      fc.asyncProperty(headerValueBytes(2000), forwardedFor(), async (userAgent, xff) => {
        const headers: [string, string | Buffer][] = [
          ['Content-Type', 'application/json'],
          ['User-Agent', userAgent],
          ['X-Forwarded-For', xff],
        ];
        const loginRes = await rawRequest(system.gatewayUrl, {
          method: 'POST',
          path: '/api/auth/login',
          headers,
          body: Buffer.from(JSON.stringify({ email: user.email, password: user.password })),
        });
        const what = `login with ${describeHeaders(headers)}`;
        expectSafe(loginRes, what);
        if (refusedByParser(loginRes, headers)) return;
        expect({ what, status: loginRes.status }).toEqual({ what, status: 200 });
        const tokens = JSON.parse(loginRes.body) as { accessToken: string; refreshToken: string };

        const list = await rawRequest(system.gatewayUrl, {
          method: 'GET',
          path: '/api/me/sessions',
          headers: [['Authorization', `Bearer ${tokens.accessToken}`]],
        });
        expectSafe(list, `sessions after ${what}`);
        expect(list.status).toBe(200);
        const current = (JSON.parse(list.body) as { current: boolean; ip: string; device: string }[]).find((s) => s.current);
        // No trusted proxy is configured: the socket address counts, never the header.
        expect({ what, ip: current?.ip }).toEqual({ what, ip: '127.0.0.1' });
        // Only a short device label of the agent is kept, however long or strange the header.
        expect([...(current?.device ?? '')].length).toBeGreaterThan(0);
        expect([...(current?.device ?? '')].length).toBeLessThanOrEqual(60);

        const refreshed = await rawRequest(system.gatewayUrl, {
          method: 'POST',
          path: '/api/auth/refresh',
          headers,
          body: Buffer.from(JSON.stringify({ refreshToken: tokens.refreshToken })),
        });
        expectSafe(refreshed, `refresh after ${what}`);
        expect({ what, status: refreshed.status }).toEqual({ what, status: 200 });
        await rawRequest(system.gatewayUrl, {
          method: 'POST',
          path: '/api/auth/logout',
          headers: [['Authorization', `Bearer ${JSON.parse(refreshed.body).accessToken}`]],
        });
      }),
      fuzzParameters(30),
    );
  });
});
