import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';

import {
  claimsOf,
  internalDetailIn,
  login,
  rawRequest,
  registerAndLogin,
  startTestSystem,
  UNLIMITED_BUDGETS,
  type RawResponse,
  type TestSystem,
  type TestUser,
} from '../support';

const ADMIN = { email: 'errors-admin@example.com', password: 'amber kettle orchestra 19' };
/** The fields the one error body may have (docs/api-contract.md: the `Error` schema is closed). */
const ERROR_FIELDS = new Set(['statusCode', 'message', 'error', 'retryAfter']);

type Header = [string, string | Buffer];
type Credential = 'user' | 'admin' | 'none';

/** One app as a client reaches it: the gateway under `/api`, or a service directly at its root. */
interface Target {
  name: string;
  url: () => string;
  prefix: string;
}

/**
 * The error contract under hostile queries, path parameters, headers, methods and bodies, at every
 * app as a client can reach it (through the gateway and straight at each service): a 4xx with the
 * one `Error` body (docs/api-contract.md), never a 5xx, nothing internal, and the app still serving
 * afterwards. Node's own refusals (no JSON body) are named where they apply.
 */
describe('the error contract under hostile input, at the gateway and at each service', () => {
  let system: TestSystem;
  let user: TestUser;
  let adminToken: string;
  let adminId: string;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'error_contract',
      // One pooled connection per service: an aborted upload that held it would starve the next request.
      gatewayEnv: { ...UNLIMITED_BUDGETS.gatewayEnv, UPSTREAM_MAX_SOCKETS: '1' },
      authEnv: {
        ...UNLIMITED_BUDGETS.authEnv,
        RATE_LIMIT_ADMIN_LIMIT: '100000',
        BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
        BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      },
    });
    user = await registerAndLogin(system.gatewayUrl);
    adminToken = (await login(system.gatewayUrl, ADMIN.email, ADMIN.password)).accessToken;
    adminId = claimsOf(adminToken).sub as string;
  });
  afterAll(() => system?.close());

  const gateway: Target = { name: 'gateway', url: () => system.gatewayUrl, prefix: '/api' };
  const auth: Target = { name: 'auth-service', url: () => system.authUrl, prefix: '' };
  const profile: Target = { name: 'profile-service', url: () => system.profileUrl, prefix: '' };
  /** Where auth-service's routes are reached: test tables run at both. */
  const gatewayAndAuth = [
    ['gateway', gateway],
    ['auth-service', auth],
  ] as const;

  function send(target: Target, method: string, path: string, options: { as?: Credential; headers?: Header[]; body?: Buffer } = {}) {
    const headers: Header[] = [...(options.headers ?? [])];
    if (options.as === 'user') headers.push(['Authorization', `Bearer ${user.accessToken}`]);
    if (options.as === 'admin') headers.push(['Authorization', `Bearer ${adminToken}`]);
    return rawRequest(target.url(), { method, path: `${target.prefix}${path}`, headers, body: options.body });
  }

  /** A refusal as docs/api-contract.md promises it: JSON with `statusCode` equal to the status and a message, nothing else, nothing internal. */
  function expectError(res: RawResponse, status: number, what: string): Record<string, unknown> {
    let body: Record<string, unknown> | undefined;
    try {
      body = JSON.parse(res.body) as Record<string, unknown>;
    } catch {
      // reported below
    }
    const message = body?.message;
    expect({
      what,
      status: res.status,
      json: /^application\/json/.test(res.headers['content-type'] ?? ''),
      statusCode: body?.statusCode,
      message: typeof message === 'string' || (Array.isArray(message) && message.every((m) => typeof m === 'string')),
      error: body?.error === undefined || typeof body.error === 'string',
      otherFields: Object.keys(body ?? {}).filter((key) => !ERROR_FIELDS.has(key)),
      internal: internalDetailIn(res.body),
    }).toEqual({ what, status, json: true, statusCode: status, message: true, error: true, otherFields: [], internal: undefined });
    return body as Record<string, unknown>;
  }

  /** Every app still answers its ordinary requests. */
  async function expectStillServing(): Promise<void> {
    expect((await send(gateway, 'GET', '/me', { as: 'user' })).status).toBe(200);
    expect((await send(auth, 'GET', '/me', { as: 'user' })).status).toBe(200);
    expect((await send(profile, 'GET', '/profile', { as: 'user' })).status).toBe(200);
    expect((await send(gateway, 'GET', '/profile', { as: 'user' })).status).toBe(200);
  }

  describe('query strings of the paginated routes', () => {
    const listings = [
      ['GET /me/activity', 'user', () => '/me/activity'],
      ['GET /accounts', 'admin', () => '/accounts'],
      ['GET /accounts/:id/events', 'admin', () => `/accounts/${adminId}/events`],
    ] as const;

    it.each(gatewayAndAuth)('refuses every malformed limit and cursor with a 400 at the %s', async (_name, target) => {
      const queries = [
        'limit=1&limit=2',
        'limit[]=5',
        'limit[a]=5',
        'limit=-1',
        'limit=0',
        'limit=1.5',
        'limit=NaN',
        'limit=Infinity',
        'limit=101',
        'limit=99999999999999999999999',
        'limit=',
        'limit=%00',
        'cursor=1&cursor=2',
        'cursor[a]=1',
        'cursor=%ZZ',
        'cursor=',
        'cursor=-1',
        'cursor=99999999999999999999',
        '__proto__[limit]=5',
        'constructor=x',
        'a[b]=1',
      ];
      for (const [name, as, path] of listings) {
        for (const query of queries) expectError(await send(target, 'GET', `${path()}?${query}`, { as }), 400, `${name}?${query}`);
      }
      await expectStillServing();
    });

    // `Number()` reads all of these as a page size: a client that sends one has a bug the 200 hides.
    it.each(gatewayAndAuth)('takes a limit written only in decimal digits at the %s', async (_name, target) => {
      for (const [name, as, path] of listings) {
        for (const query of ['limit=0x10', 'limit=1e2', 'limit=0b11', 'limit=0o7', 'limit=%2010', 'limit=10%20', 'limit=+5']) {
          expectError(await send(target, 'GET', `${path()}?${query}`, { as }), 400, `${name}?${query}`);
        }
        for (const query of ['limit=1', 'limit=007', 'limit=100']) {
          expect({ name, query, status: (await send(target, 'GET', `${path()}?${query}`, { as })).status }).toEqual({
            name,
            query,
            status: 200,
          });
        }
      }
    });
  });

  describe('path parameters', () => {
    it.each(gatewayAndAuth)('answers ids that are not ids with a 4xx at the %s: 400 for an undecodable one', async (_name, target) => {
      const cases: [string, number, number][] = [
        // [raw id, session answer, account answer]
        ['%ZZ', 400, 400],
        ['%', 400, 400],
        ['%E0%A4', 400, 400],
        ['%C0%AF', 400, 400],
        ['%00', 404, 400],
        ['abc%00def', 404, 400],
        ['%F0%9F%98%80', 404, 400],
        ['%E2%80%AE', 404, 400],
        ['x;y', 404, 400],
        ['%27%20OR%201=1', 404, 400],
        ['a'.repeat(4000), 404, 400],
        [`${adminId}%20`, 404, 400],
        ['00000000-0000-4000-8000-000000000000', 404, 404],
      ];
      for (const [id, session, account] of cases) {
        expectError(await send(target, 'DELETE', `/me/sessions/${id}`, { as: 'user' }), session, `DELETE /me/sessions/${id.slice(0, 40)}`);
        expectError(
          await send(target, 'GET', `/accounts/${id}/lockout`, { as: 'admin' }),
          account,
          `GET /accounts/${id.slice(0, 40)}/lockout`,
        );
        expectError(
          await send(target, 'PATCH', `/accounts/${id}/unlock`, { as: 'admin' }),
          account,
          `PATCH /accounts/${id.slice(0, 40)}/unlock`,
        );
      }
      await expectStillServing();
    });

    it('refuses encoded separators and dot segments at the gateway; a service finds no such session', async () => {
      for (const id of ['%2F', '%2f..', '%5C', '..', '.']) {
        expectError(await send(gateway, 'DELETE', `/me/sessions/${id}`, { as: 'user' }), 400, `gateway ${id}`);
        expectError(await send(auth, 'DELETE', `/me/sessions/${id}`, { as: 'user' }), 404, `auth-service ${id}`);
      }
      await expectStillServing();
    });
  });

  describe('Authorization and other headers', () => {
    const protectedRoutes: [Target, string][] = [
      [gateway, '/me'],
      [gateway, '/profile'],
      [auth, '/me'],
      [profile, '/profile'],
    ];

    it('refuses a malformed Authorization with the 401 error body at every app', async () => {
      const token = () => user.accessToken;
      // Spellings RFC 9110 allows (the scheme in any case, more white space) are read like `Bearer <token>`; these are not.
      const values = [
        () => `Bearer${token()}`,
        () => `Bearer ${token()}, Bearer ${token()}`,
        () => `Bearer ${token()},`,
        () => `Bearer "${token()}"`,
        () => `Bearer ${token()}\u00e9`,
        () => `Token ${token()}`,
        () => token(),
        () => 'Bearer',
        () => 'Bearer ',
        () => 'Basic dXNlcjpwYXNzd29yZA==',
        () => `Bearer ${'a'.repeat(12_000)}`,
        () => `Bearer ${'a.'.repeat(4000)}a`,
        () => `Bearer ${token().split('.').slice(0, 2).join('.')}.`,
      ];

      for (const [target, path] of protectedRoutes) {
        for (const value of values) {
          const res = await send(target, 'GET', path, { headers: [['Authorization', value()]] });
          expect(expectError(res, 401, `${target.name} ${path} ${value().slice(0, 30)}`).error).toBe('invalid_token');
          expect(res.body).not.toContain(token());
        }
      }
      await expectStillServing();
    });

    it('reads only the first of several Authorization fields, the same way at the gateway and at the service', async () => {
      for (const [target, path] of protectedRoutes) {
        const garbageFirst = await send(target, 'GET', path, {
          headers: [
            ['Authorization', 'Bearer x.y.z'],
            ['Authorization', `Bearer ${user.accessToken}`],
          ],
        });
        expectError(garbageFirst, 401, `${target.name} ${path}`);
        const validFirst = await send(target, 'GET', path, {
          headers: [
            ['Authorization', `Bearer ${user.accessToken}`],
            ['Authorization', 'Bearer x.y.z'],
          ],
        });
        expect({ path, status: validFirst.status }).toEqual({ path, status: 200 });
      }
    });

    it('serves a request whose Host is empty, has no port, an impossible port or is an IPv6 literal', async () => {
      for (const host of ['', 'evil.example', 'evil.example:99999', '[::1]']) {
        for (const [target, path] of protectedRoutes) {
          const res = await send(target, 'GET', path, { as: 'user', headers: [['Host', host]] });
          expect({ host, path, status: res.status }).toEqual({ host, path, status: 200 });
        }
      }
    });

    it("answers a header over Node's limit with its bodiless 431, and keeps serving", async () => {
      for (const [target, path] of protectedRoutes) {
        const res = await send(target, 'GET', path, { as: 'user', headers: [['X-Padding', 'p'.repeat(20_000)]] });
        expect({ path, status: res.status, body: res.body }).toEqual({ path, status: 431, body: '' });
      }
      await expectStillServing();
    });
  });

  describe('methods', () => {
    const routes: [string, string, Credential, Target[]][] = [
      ['POST', '/auth/register', 'none', [gateway, auth]],
      ['POST', '/auth/login', 'none', [gateway, auth]],
      ['POST', '/auth/refresh', 'none', [gateway, auth]],
      ['POST', '/auth/logout', 'user', [gateway, auth]],
      ['POST', '/auth/password', 'user', [gateway, auth]],
      ['GET', '/me', 'user', [gateway, auth]],
      ['GET', '/me/activity', 'user', [gateway, auth]],
      ['GET', '/me/sessions', 'user', [gateway, auth]],
      ['DELETE', '/me/sessions', 'user', [gateway, auth]],
      ['DELETE', '/me/sessions/x', 'user', [gateway, auth]],
      ['GET', '/accounts', 'admin', [gateway, auth]],
      ['GET', '/accounts/:id/lockout', 'admin', [gateway, auth]],
      ['GET', '/accounts/:id/events', 'admin', [gateway, auth]],
      ['PATCH', '/accounts/:id/unlock', 'admin', [gateway, auth]],
      ['PATCH', '/accounts/:id/role', 'admin', [gateway, auth]],
      ['PATCH', '/accounts/:id/status', 'admin', [gateway, auth]],
      ['DELETE', '/accounts/:id/sessions', 'admin', [gateway, auth]],
      ['GET', '/profile', 'user', [gateway, profile]],
      ['PATCH', '/profile', 'user', [gateway, profile]],
    ];

    it('answers OPTIONS, TRACE, PUT and unregistered methods on every route with the 404 error body, and never echoes TRACE', async () => {
      for (const [method, route, as, targets] of routes) {
        const path = route.replace(':id', adminId);
        for (const target of targets) {
          for (const other of ['OPTIONS', 'TRACE', 'PUT', 'PROPFIND', 'PURGE'].filter((m) => m !== method)) {
            const res = await send(target, other, path, { as });
            expectError(res, 404, `${other} ${target.name} ${path}`);
            expect(res.body).not.toContain(as === 'admin' ? adminToken : user.accessToken);
          }
        }
      }
      await expectStillServing();
    });

    it('answers HEAD like GET without a body where a path has a GET, and with a 404 elsewhere', async () => {
      const readable = new Set(routes.filter(([method]) => method === 'GET').map(([, route]) => route));
      for (const [, route, as, targets] of routes) {
        const path = route.replace(':id', adminId);
        for (const target of targets) {
          const res = await send(target, 'HEAD', path, { as });
          expect({ route, at: target.name, status: res.status, body: res.body }).toEqual({
            route,
            at: target.name,
            status: readable.has(route) ? 200 : 404,
            body: '',
          });
        }
      }
    });

    it('answers a method Node cannot parse with its bodiless 400, and keeps serving', async () => {
      for (const target of [gateway, auth, profile]) {
        const res = await send(target, 'FOO', '/me', { as: 'user' });
        expect({ at: target.name, status: res.status, body: res.body }).toEqual({ at: target.name, status: 400, body: '' });
      }
      await expectStillServing();
    });
  });

  describe('bodies', () => {
    const json: Header = ['Content-Type', 'application/json'];
    const credentials = (fields: Record<string, unknown>) =>
      Buffer.from(JSON.stringify({ email: 'nobody@example.com', password: 'p'.repeat(20), ...fields }));

    it.each(gatewayAndAuth)('refuses wrong types, huge values and compressed bombs with the right 4xx at the %s', async (_name, target) => {
      const cases: [string, Header[], Buffer, number][] = [
        ['email as a number', [json], credentials({ email: 5 }), 400],
        ['password as a number', [json], credentials({ password: 123456789012345 }), 400],
        ['password as an object', [json], credentials({ password: { length: 20 } }), 400],
        ['password as an array', [json], credentials({ password: ['p'.repeat(20)] }), 400],
        ['an email of 10 kB', [json], credentials({ email: `${'a'.repeat(10_000)}@example.com` }), 400],
        ['a password of 90 kB', [json], credentials({ password: 'p'.repeat(90_000) }), 400],
        ['a password of 1 MB', [json], credentials({ password: 'p'.repeat(1024 * 1024) }), 413],
        [
          'a constructor key',
          [json],
          Buffer.from('{"constructor":{"prototype":{"role":"admin"}},"email":"a@b.co","password":"pppppppppppppppppppp"}'),
          400,
        ],
        ['gzip of 5 MB', [json, ['Content-Encoding', 'gzip']], gzipSync(credentials({ password: 'p'.repeat(5_000_000) })), 413],
        ['gzip that is not gzip', [json, ['Content-Encoding', 'gzip']], credentials({}), 400],
        ['an unknown Content-Encoding', [json, ['Content-Encoding', 'x-unknown']], credentials({}), 415],
        ['two Content-Types, JSON last', [['Content-Type', 'text/plain'], json], credentials({}), 415],
      ];
      for (const [name, headers, body, status] of cases)
        expectError(await send(target, 'POST', '/auth/login', { headers, body }), status, name);
      // Compressed JSON within the limits is read like any other.
      const gzipped = await send(target, 'POST', '/auth/login', {
        headers: [json, ['Content-Encoding', 'gzip']],
        body: gzipSync(credentials({})),
      });
      expectError(gzipped, 401, 'gzip');
      await expectStillServing();
    });

    it.each(gatewayAndAuth)('refuses a chunked body over the limit with 413 at the %s', async (_name, target) => {
      const payload = credentials({ password: 'p'.repeat(300_000) });
      const chunked = Buffer.concat([Buffer.from(`${payload.length.toString(16)}\r\n`), payload, Buffer.from('\r\n0\r\n\r\n')]);
      const res = await send(target, 'POST', '/auth/login', { headers: [json, ['Transfer-Encoding', 'chunked']], body: chunked });
      expectError(res, 413, 'chunked');
      await expectStillServing();
    });

    it('reads a JSON body on GET without letting it change the answer, and refuses a broken one', async () => {
      for (const [target, path] of [
        [gateway, '/me'],
        [auth, '/me'],
        [profile, '/profile'],
      ] as const) {
        const ignored = await send(target, 'GET', path, { as: 'user', headers: [json], body: Buffer.from('{"id":"someone else"}') });
        expect({ path, status: ignored.status, id: JSON.parse(ignored.body).id ?? JSON.parse(ignored.body).userId }).toEqual({
          path,
          status: 200,
          id: user.id,
        });
        expectError(await send(target, 'GET', path, { as: 'user', headers: [json], body: Buffer.from('{"id":') }), 400, `GET ${path}`);
      }
    });

    it('frees the pooled connection when a client stops sending its body half-way', async () => {
      // More aborted uploads than the gateway has pooled connections (1 per service here).
      for (let i = 0; i < 3; i++) {
        for (const path of ['/api/auth/login', '/api/profile']) {
          await new Promise<void>((resolve) => {
            const { hostname, port } = new URL(system.gatewayUrl);
            const socket = connect({ host: hostname, port: Number(port) }, () => {
              socket.write(
                `${path === '/api/profile' ? 'PATCH' : 'POST'} ${path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${user.accessToken}\r\n` +
                  'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":"a@b.co","pass',
              );
              // Once the gateway has begun to stream the body upstream.
              setTimeout(() => {
                socket.destroy();
                resolve();
              }, 100);
            });
            socket.on('error', () => undefined);
          });
        }
      }
      const res = await send(gateway, 'POST', '/auth/login', { headers: [json], body: credentials({}) });
      expectError(res, 401, 'login after aborted uploads');
      await expectStillServing();
    });
  });
});
