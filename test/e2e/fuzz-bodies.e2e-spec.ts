import fc from 'fast-check';

import { isAmbiguousPath } from '../../apps/api-gateway/src/proxy/ambiguous-paths';
import {
  charsetBody,
  claimsOf,
  fuzzParameters,
  fuzzSuite,
  hostileString,
  internalDetailIn,
  login,
  percentEncode,
  randomPassword,
  rawRequest,
  registerAndLogin,
  uniqueEmail,
  wireBody,
  type RawResponse,
  type TestSystem,
  type TestUser,
  type WireBody,
} from '../support';

/**
 * Property-based fuzzing of every route through the gateway with bodies of every shape, size and
 * charset (fast-check, seeded: FUZZ_SEED, FUZZ_SCALE). Properties: no 5xx, nothing internal in a
 * response, no protected route answered without a valid token, no admin route for a user, no login
 * or refresh accepted with made-up credentials, only UTF-8 bodies parsed, refusals as clean JSON
 * that quotes nothing, and login answers an unknown email exactly like a known email with a wrong
 * password.
 */
describe('fuzz: bodies and paths of every route, through the gateway', () => {
  const ADMIN_EMAIL = 'fuzz-admin@example.com';
  const ADMIN_PASSWORD = 'admin password for fuzzing';
  const fuzz = fuzzSuite('fuzz-bodies', { BOOTSTRAP_ADMIN_EMAIL: ADMIN_EMAIL, BOOTSTRAP_ADMIN_PASSWORD: ADMIN_PASSWORD });
  let system: TestSystem;
  let user: TestUser & { sessionId: string };
  let admin: TestUser;
  let victim: TestUser & { sessionId: string };

  beforeAll(async () => {
    system = fuzz.system;
    const withSid = (u: TestUser) => ({ ...u, sessionId: claimsOf(u.accessToken).sid as string });
    user = withSid(await registerAndLogin(system.gatewayUrl));
    victim = withSid(await registerAndLogin(system.gatewayUrl));
    const adminTokens = await login(system.gatewayUrl, ADMIN_EMAIL, ADMIN_PASSWORD);
    admin = { id: claimsOf(adminTokens.accessToken).sub as string, email: ADMIN_EMAIL, password: ADMIN_PASSWORD, ...adminTokens };
  });

  type Access = 'public' | 'user' | 'admin';
  type Credential = 'none' | 'garbage' | 'user' | 'admin';

  interface Route {
    name: string;
    method: string;
    path: (id: string) => string;
    access: Access;
    fields: Record<string, fc.Arbitrary<unknown>>;
  }

  const plausibleEmail = () =>
    fc.oneof(
      fc.emailAddress(),
      fc.constant(uniqueEmail('fuzz')),
      fc.constantFrom(ADMIN_EMAIL, 'FUZZ-ADMIN@EXAMPLE.COM', ' fuzz-admin@example.com '),
    );
  const plausiblePassword = () =>
    fc.oneof(fc.string({ minLength: 10, maxLength: 140 }), fc.string({ unit: 'grapheme', minLength: 10, maxLength: 140 }));
  const plausibleRefreshToken = () =>
    fc.oneof(
      fc.stringMatching(
        /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{22}\.(0|[1-9][0-9]{0,8})\.[A-Za-z0-9_-]{43}$/,
      ),
      fc.constant('').map(() => `${victim.id}.${victim.sessionId}.0.${'A'.repeat(43)}`),
    );

  const ROUTES: Route[] = [
    {
      name: 'register',
      method: 'POST',
      path: () => '/api/auth/register',
      access: 'public',
      fields: { email: plausibleEmail(), password: plausiblePassword() },
    },
    {
      name: 'login',
      method: 'POST',
      path: () => '/api/auth/login',
      access: 'public',
      fields: { email: plausibleEmail(), password: plausiblePassword() },
    },
    {
      name: 'refresh',
      method: 'POST',
      path: () => '/api/auth/refresh',
      access: 'public',
      fields: { refreshToken: plausibleRefreshToken() },
    },
    { name: 'logout', method: 'POST', path: () => '/api/auth/logout', access: 'user', fields: {} },
    {
      name: 'password',
      method: 'POST',
      path: () => '/api/auth/password',
      access: 'user',
      fields: { currentPassword: plausiblePassword(), newPassword: plausiblePassword() },
    },
    { name: 'me', method: 'GET', path: () => '/api/me', access: 'user', fields: {} },
    { name: 'sessions', method: 'GET', path: () => '/api/me/sessions', access: 'user', fields: {} },
    { name: 'end other sessions', method: 'DELETE', path: () => '/api/me/sessions', access: 'user', fields: {} },
    { name: 'end a session', method: 'DELETE', path: (id) => `/api/me/sessions/${id}`, access: 'user', fields: {} },
    { name: 'profile', method: 'GET', path: () => '/api/profile', access: 'user', fields: {} },
    {
      name: 'update profile',
      method: 'PATCH',
      path: () => '/api/profile',
      access: 'user',
      fields: {
        displayName: fc.oneof(
          fc.string({ maxLength: 110 }),
          fc.string({ unit: 'grapheme', maxLength: 110 }),
          fc.string({ unit: 'binary', maxLength: 110 }),
          fc.constant(null),
        ),
      },
    },
    { name: 'unlock', method: 'PATCH', path: (id) => `/api/accounts/${id}/unlock`, access: 'admin', fields: {} },
    { name: 'lockout state', method: 'GET', path: (id) => `/api/accounts/${id}/lockout`, access: 'admin', fields: {} },
    { name: 'end account sessions', method: 'DELETE', path: (id) => `/api/accounts/${id}/sessions`, access: 'admin', fields: {} },
  ];

  /** Path ids: random UUIDs, the victim's ids, anything at all (percent-encoded, or raw when it is one token). */
  const pathId = () =>
    fc.oneof(
      fc.uuid(),
      fc.constant(undefined).map(() => victim.id),
      fc.constant(undefined).map(() => victim.sessionId),
      hostileString(80).map((s) => percentEncode(s) || 'x'),
      // Raw: only characters that keep the id one path segment ('#', '?' and '/' would change the route).
      hostileString(40).map((s) => s.replace(/[^\x21-\x7e]|[#?/]/g, '') || '%'),
    );

  function send(method: string, path: string, credential: Credential, body: WireBody | undefined): Promise<RawResponse> {
    const headers: [string, string | Buffer][] = [['User-Agent', 'fuzz/1.0']];
    const token =
      credential === 'user'
        ? user.accessToken
        : credential === 'admin'
          ? admin.accessToken
          : credential === 'garbage'
            ? 'x.y.z'
            : undefined;
    if (token) headers.push(['Authorization', `Bearer ${token}`]);
    if (body?.contentType !== undefined) headers.push(['Content-Type', body.contentType]);
    if (body?.contentEncoding !== undefined) headers.push(['Content-Encoding', body.contentEncoding]);
    return rawRequest(system.gatewayUrl, { method, path, headers, body: body?.payload });
  }

  function wellFormedTarget(path: string): boolean {
    try {
      decodeURIComponent(path);
    } catch {
      return false;
    }
    return /^[\x21-\x7e]*$/.test(path) && !path.includes('#') && !isAmbiguousPath(path);
  }

  /** The properties every response must have, whatever was sent. */
  function expectSafe(res: RawResponse, what: string): void {
    if (res.status >= 500) throw new Error(`${what} → ${res.status} ${res.body.slice(0, 300)}`);
    const leak = internalDetailIn(res.body) ?? internalDetailIn(Object.values(res.headers).join('\n'));
    if (leak) throw new Error(`${what} → ${res.status} reveals internals: ${JSON.stringify(leak)}`);
    if (res.headers['x-powered-by']) throw new Error(`${what} → X-Powered-By: ${res.headers['x-powered-by']}`);
  }

  it('every route, any body, any credential: no 5xx, no leak, no access without the right token', async () => {
    const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];
    const request = fc.constantFrom(...ROUTES).chain((route) =>
      fc.record({
        // The name, not the route object: counterexamples stay readable.
        route: fc.constant(route.name),
        method: fc.oneof({ weight: 6, arbitrary: fc.constant(route.method) }, { weight: 1, arbitrary: fc.constantFrom(...methods) }),
        // A valid token on logout would end the very session the suite runs with.
        credential: fc.constantFrom<Credential>(
          ...(route.name === 'logout' ? (['none', 'garbage'] as const) : (['none', 'garbage', 'user', 'user', 'admin'] as const)),
        ),
        id: pathId(),
        body: fc.option(wireBody(route.fields), { nil: undefined, freq: 6 }),
        query: fc.option(
          hostileString(40).map((s) => `?${percentEncode(s)}=${percentEncode(s)}`),
          { nil: '', freq: 2 },
        ),
      }),
    );

    await fc.assert(
      fc.asyncProperty(request, async ({ route: name, method, credential, id, body, query }) => {
        const route = ROUTES.find((r) => r.name === name) as Route;
        const path = route.path(id) + query;
        const what = `${method} ${path.slice(0, 120)} as ${credential} (${route.name}), body ${body ? JSON.stringify(body.payload.subarray(0, 120).toString()) : 'none'}`;
        const res = await send(method, path, credential, body);
        expectSafe(res, what);
        const authenticated = credential === 'user' || credential === 'admin';
        // A request may be refused before any guard runs: a target the router cannot decode or one with
        // dot segments or encoded separators (400), or one too long (414, 431). Anything that reaches
        // the gateway's routes needs a token.
        const refusedEarly = (res.status === 400 && !wellFormedTarget(path)) || res.status === 414 || res.status === 431;
        // The password route serves POST only: another method is the gateway's 404, before any guard.
        const notRouted = route.name === 'password' && method !== 'POST' && res.status === 404;
        if (route.access !== 'public' && !authenticated && !refusedEarly && !notRouted)
          expect({ what, status: res.status }).toEqual({ what, status: 401 });
        // A user on an admin route: 403, or an earlier 4xx for a body or target nobody could parse.
        if (route.access === 'admin' && credential === 'user')
          expect({ what, accepted: res.status < 400 }).toEqual({ what, accepted: false });
        // Made-up credentials never log in, refresh, change a password or end someone's session.
        if (['login', 'refresh', 'password', 'end a session'].includes(route.name)) {
          expect({ what, success: res.status >= 200 && res.status < 300 && method === route.method }).toEqual({ what, success: false });
        }
      }),
      fuzzParameters(900),
    );

    // The suite's own sessions survived: nothing above ended them by accident.
    expect((await send('GET', '/api/me', 'user', undefined)).status).toBe(200);
  });

  /** The charset a content type declares, as body-parser reads it (lower case, unquoted), or utf-8 when it declares none. */
  function declaredCharset(contentType: string | undefined): string {
    return /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(contentType ?? '')?.[1].toLowerCase() ?? 'utf-8';
  }

  /**
   * A refusal is JSON that states its own status and a message, and quotes nothing that was sent:
   * none of the given values, and no word of the body with letters and digits in it, 8 or more long
   * (a parser's "Unexpected token ... in JSON" quotes the text around the mistake; no message of
   * ours has such a word).
   */
  function expectCleanJsonError(res: RawResponse, sent: string[], what: string, payload?: Buffer): void {
    if (res.status < 400) return;
    let body: { statusCode?: unknown; message?: unknown };
    try {
      body = JSON.parse(res.body) as typeof body;
    } catch {
      throw new Error(`${what} → ${res.status} is not JSON: ${res.body.slice(0, 200)}`);
    }
    const message = body.message;
    const clean =
      /^application\/json/.test(res.headers['content-type'] ?? '') &&
      body.statusCode === res.status &&
      (typeof message === 'string' || (Array.isArray(message) && message.every((m) => typeof m === 'string')));
    if (!clean) throw new Error(`${what} → ${res.status} is not a clean JSON error: ${res.body.slice(0, 300)}`);
    const echoed = sent.find((value) => value.length >= 16 && new Set(value).size > 3 && res.body.includes(value));
    if (echoed !== undefined) throw new Error(`${what} → ${res.status} echoes what was sent: ${JSON.stringify(echoed)}`);
    const words = (payload?.toString('utf8').match(/[A-Za-z0-9_]{8,}/g) ?? []).filter(
      (word) => /[0-9]/.test(word) && /[A-Za-z]/.test(word),
    );
    const quoted = words.find((word) => res.body.includes(word));
    if (quoted !== undefined)
      throw new Error(`${what} → ${res.status} quotes the body: ${JSON.stringify(quoted)} in ${res.body.slice(0, 300)}`);
  }

  it('a JSON body in any charset: UTF-8 is parsed, any other charset is a 415, never a 5xx (gateway and auth-service)', async () => {
    const routes = ROUTES.filter((r) => ['register', 'login', 'refresh', 'password', 'update profile'].includes(r.name));
    const request = fc
      .constantFrom(...routes)
      .chain((route) => fc.record({ route: fc.constant(route.name), body: charsetBody(route.fields), direct: fc.boolean() }));
    await fc.assert(
      fc.asyncProperty(request, async ({ route: name, body, direct }) => {
        const route = ROUTES.find((r) => r.name === name) as Route;
        // Directly at the service that parses the body, or through the gateway that streams it there.
        const service = route.name === 'update profile' ? system.profileUrl : system.authUrl;
        const url = direct ? service : system.gatewayUrl;
        const path = direct ? route.path('').replace(/^\/api/, '') : route.path('');
        const headers: [string, string][] = [['Content-Type', body.contentType as string]];
        if (route.access !== 'public') headers.push(['Authorization', `Bearer ${user.accessToken}`]);
        const res = await rawRequest(url, { method: route.method, path, headers, body: body.payload });
        const what = `${route.method} ${path} ${direct ? 'directly' : 'via the gateway'} as ${body.contentType}, ${body.payload.length} bytes`;
        expectSafe(res, what);
        expectCleanJsonError(res, [], what, body.payload);
        const utf8 = declaredCharset(body.contentType) === 'utf-8';
        expect({ what, refusedAsCharset: res.status === 415 }).toEqual({ what, refusedAsCharset: !utf8 });
      }),
      fuzzParameters(300),
    );
    expect((await send('GET', '/api/me', 'user', undefined)).status).toBe(200);
  });

  it('password change with any body: no 5xx, a clean JSON error that quotes nothing, and the password stays', async () => {
    const owner = await registerAndLogin(system.gatewayUrl, { password: randomPassword() });
    const secretLike = fc.stringMatching(/^sk_live_[A-Za-z0-9]{24}$/);
    const passwordShape = () =>
      fc.oneof(
        { weight: 3, arbitrary: plausiblePassword() },
        { weight: 1, arbitrary: fc.constant(undefined).map(() => `${owner.password} `) },
        { weight: 1, arbitrary: fc.constant(undefined).map(() => owner.password.toUpperCase()) },
        { weight: 1, arbitrary: fc.integer({ min: 1000, max: 5000 }).map((n) => 'p'.repeat(n)) },
        { weight: 1, arbitrary: hostileString(200) },
        { weight: 1, arbitrary: secretLike },
      );
    const fields = { currentPassword: passwordShape(), newPassword: passwordShape() };
    const json = (text: string): WireBody => ({ contentType: 'application/json', payload: Buffer.from(text) });
    // JSON that breaks next to a secret: an unquoted value, a cut-off string, a stray character after it.
    const brokenNextToSecret = fc
      .tuple(secretLike, fc.constantFrom('unquoted', 'cut', 'stray', 'bare'))
      .map(([secret, how]) =>
        json(
          how === 'unquoted'
            ? `{"currentPassword": ${secret}, "newPassword": "another long passphrase"}`
            : how === 'cut'
              ? `{"currentPassword":"${secret}`
              : how === 'stray'
                ? `{"currentPassword":"${secret}"x}`
                : secret,
        ),
      );
    const body = fc.oneof(
      {
        weight: 3,
        arbitrary: fc
          .record({ currentPassword: fields.currentPassword, newPassword: fields.newPassword })
          .map((b) => json(JSON.stringify(b))),
      },
      { weight: 1, arbitrary: brokenNextToSecret },
      { weight: 3, arbitrary: wireBody(fields) },
      { weight: 1, arbitrary: charsetBody(fields) },
    );
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (wire, direct) => {
        fc.pre(!wire.payload.toString('utf8').includes(JSON.stringify(owner.password)));
        const headers: [string, string][] = [['Authorization', `Bearer ${owner.accessToken}`]];
        if (wire.contentType !== undefined) headers.push(['Content-Type', wire.contentType]);
        if (wire.contentEncoding !== undefined) headers.push(['Content-Encoding', wire.contentEncoding]);
        const res = await rawRequest(direct ? system.authUrl : system.gatewayUrl, {
          method: 'POST',
          path: direct ? '/auth/password' : '/api/auth/password',
          headers,
          body: wire.payload,
        });
        const what = `password change ${direct ? 'directly' : 'via the gateway'} with ${fc.stringify(wire)}`;
        expectSafe(res, what);
        let sent: string[] = [];
        try {
          const parsed = JSON.parse(wire.payload.toString('utf8')) as Record<string, unknown>;
          sent = [parsed.currentPassword, parsed.newPassword].filter((v): v is string => typeof v === 'string');
        } catch {
          // Not JSON: nothing to look for but the body itself, which no refusal repeats.
        }
        expectCleanJsonError(res, sent, what, wire.payload);
        expect({ what, status: res.status >= 400 }).toEqual({ what, status: true });
      }),
      fuzzParameters(250),
    );
    // Nothing above changed the password or ended the session.
    await expect(login(system.gatewayUrl, owner.email, owner.password)).resolves.toMatchObject({ accessToken: expect.any(String) });
    const me = await rawRequest(system.gatewayUrl, {
      method: 'GET',
      path: '/api/me',
      headers: [['Authorization', `Bearer ${owner.accessToken}`]],
    });
    expect(me.status).toBe(200);
  });

  it('login answers an unknown email exactly like a known email with a wrong password', async () => {
    const domainOf = (email: string) => email.slice(email.indexOf('@') + 1);
    const knownEmail = () => fc.constantFrom(user.email, user.email.toUpperCase(), ADMIN_EMAIL, 'Fuzz-Admin@Example.COM');
    const unknownEmail = fc.oneof(
      fc.stringMatching(/^[a-z0-9]{1,30}$/).map((local) => `nobody-${local}@${domainOf(user.email)}`),
      fc.emailAddress(),
      fc.constant(undefined).map(() => user.email.replace('@', 'x@')),
    );
    const wrongPassword = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.string({ unit: 'grapheme', minLength: 15, maxLength: 64 }),
      fc.constantFrom('', 'correct horse battery stapl', 'correct horse battery staple ', 'CORRECT HORSE BATTERY STAPLE'),
    );

    await fc.assert(
      fc.asyncProperty(knownEmail(), unknownEmail, wrongPassword, async (known, unknown, password) => {
        fc.pre(password !== user.password && password !== ADMIN_PASSWORD);
        const attempt = (email: string) =>
          rawRequest(system.gatewayUrl, {
            method: 'POST',
            path: '/api/auth/login',
            headers: [['Content-Type', 'application/json']],
            body: Buffer.from(JSON.stringify({ email, password })),
          });
        const [a, b] = await Promise.all([attempt(known), attempt(unknown)]);
        expectSafe(a, `login ${known}`);
        expectSafe(b, `login ${unknown}`);
        expect(a.status).toBe(401);
        // An unknown email the validator refuses (400) says nothing about which accounts exist.
        if (b.status !== 400) {
          expect({ status: b.status, body: JSON.parse(b.body) }).toEqual({ status: a.status, body: JSON.parse(a.body) });
        }
      }),
      fuzzParameters(25),
    );
  });

  /**
   * Minimal cases of what the properties above found. Each failed with a 500 before its
   * fix; each names the cause.
   */
  describe('regressions found by fuzzing (fixed; kept so they stay fixed)', () => {
    const post = (path: string, body: string, token?: string) =>
      rawRequest(system.gatewayUrl, {
        method: path === '/api/profile' ? 'PATCH' : 'POST',
        path,
        headers: [['Content-Type', 'application/json'], ...(token ? [['Authorization', `Bearer ${token}`] as [string, string]] : [])],
        body: Buffer.from(body),
      });

    it.each([
      ['register', '/api/auth/register'],
      ['login', '/api/auth/login'],
      ['refresh', '/api/auth/refresh'],
    ])('regression: a deeply nested JSON body (5,000 levels, 10 kB) on %s is a 400, not a 500', async (_name, path) => {
      // class-transformer (ValidationPipe transform) recurses once per level: RangeError: Maximum call stack size exceeded.
      const res = await post(path, '['.repeat(5000) + ']'.repeat(5000));
      expect(res.status).toBe(400);
    });

    it('regression: a deeply nested JSON object in PATCH /api/profile is a 400, not a 500', async () => {
      const res = await post('/api/profile', '{"displayName":'.repeat(3000) + '"x"' + '}'.repeat(3000), user.accessToken);
      expect(res.status).toBe(400);
    });

    it('regression: a display name containing U+0000 is refused with a 400, not a 500', async () => {
      // Postgres text cannot hold NUL (22021 invalid byte sequence); IsString() lets it through.
      const res = await post('/api/profile', JSON.stringify({ displayName: 'Ada\u0000Lovelace' }), user.accessToken);
      expect(res.status).toBe(400);
      const profile = await rawRequest(system.gatewayUrl, {
        method: 'GET',
        path: '/api/profile',
        headers: [['Authorization', `Bearer ${user.accessToken}`]],
      });
      expect(profile.status).toBe(200);
    });
  });

  it('logout with any body ends that session (204) or refuses the body (4xx)', async () => {
    const sessions = await Promise.all(Array.from({ length: 8 }, () => login(system.gatewayUrl, victim.email, victim.password)));
    let next = 0;
    await fc.assert(
      fc.asyncProperty(wireBody({}), async (body) => {
        const session = sessions[next++ % sessions.length];
        const res = await rawRequest(system.gatewayUrl, {
          method: 'POST',
          path: '/api/auth/logout',
          headers: [
            ['Authorization', `Bearer ${session.accessToken}`],
            ...(body.contentType ? [['Content-Type', body.contentType] as [string, string]] : []),
          ],
          body: body.payload,
        });
        expectSafe(res, 'logout');
        // A body the service cannot parse may be refused (4xx) before logout runs; a 204 must mean it.
        const after = await rawRequest(system.gatewayUrl, {
          method: 'GET',
          path: '/api/me',
          headers: [['Authorization', `Bearer ${session.accessToken}`]],
        });
        if (res.status === 204) expect(after.status).toBe(401);
        else expect(res.status).toBeGreaterThanOrEqual(400);
      }),
      { ...fuzzParameters(6), numRuns: sessions.length },
    );
    expect((await send('GET', '/api/me', 'user', undefined)).status).toBe(200);
  });
});
