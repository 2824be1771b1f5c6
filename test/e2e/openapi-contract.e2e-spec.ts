import { randomUUID } from 'node:crypto';

import type { OpenAPIObject } from '@nestjs/swagger';
import request from 'supertest';

import {
  bearer,
  login,
  OpenApiConformance,
  registerAndLogin,
  startTestSystem,
  uniqueEmail,
  validateOpenApiDocument,
  type TestSystem,
  type TestUser,
} from '../support';

const GENERAL_LIMIT = 60;
const ADMIN = { email: 'contract-admin@example.com', password: 'amber kettle orchestra 19' };
/** Statuses a service outage or a slow service produces: declared everywhere, not provoked here. */
const GATEWAY_FAILURES = ['502', '503', '504'];
/** Other declared statuses this test cannot provoke, and why. */
const NOT_PROVOKED: Record<string, string[]> = {
  // An account deleted while its token lives: no route deletes accounts.
  'get /api/me': [...GATEWAY_FAILURES, '404'],
  // Only with METRICS_TOKEN set.
  'get /metrics': ['401'],
  // Only with Redis down.
  'get /health/ready': ['503'],
};
const TOO_LARGE = JSON.stringify({ padding: 'x'.repeat(200 * 1024) });

interface Call {
  token?: string;
  body?: unknown;
  /** A raw body sent as is, with this content type. */
  raw?: { text: string; contentType: string };
  /** The client address (the gateway trusts loopback here); a fresh one by default, so only the budget under test runs out. */
  ip?: string;
}

/** One request and the status it must provoke. */
interface Probe {
  status: number;
  url: string | (() => string);
  call?: Call | (() => Call | Promise<Call>);
}

/**
 * Every operation of the gateway's composed document, checked against real answers through the
 * gateway: the document is valid OpenAPI, and each operation's success and provoked errors are
 * declared with the status, body schema and headers they really have.
 */
describe('the OpenAPI document served by the gateway matches its real answers', () => {
  let system: TestSystem;
  let document: OpenAPIObject;
  let contract: OpenApiConformance;
  let adminToken: string;
  let adminId: string;
  let user: TestUser;
  let ipCounter = 0;
  /** The client whose general budget is spent before the 429 probes. */
  const exhaustedIp = '10.250.0.1';
  const freshIp = () => `10.${Math.floor(ipCounter / 250) % 250}.${(ipCounter++ % 250) + 1}.9`;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'contract',
      gatewayEnv: { TRUSTED_PROXIES: 'loopback', RATE_LIMIT_GENERAL_LIMIT: String(GENERAL_LIMIT) },
      authEnv: { BOOTSTRAP_ADMIN_EMAIL: ADMIN.email, BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password },
    });
    const docs = await request(system.gatewayUrl).get('/docs-json');
    expect(docs.status).toBe(200);
    document = docs.body as OpenAPIObject;
    contract = new OpenApiConformance(document);
    const admin = await login(system.gatewayUrl, ADMIN.email, ADMIN.password, { forwardedFor: freshIp() });
    adminToken = admin.accessToken;
    adminId = (await request(system.gatewayUrl).get('/api/me').set(bearer(adminToken)).set('x-forwarded-for', freshIp())).body.id as string;
    user = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('contract'), forwardedFor: freshIp() });
    // A disabled account: its right password gets the login's 403.
    victim = await registerAndLogin(system.gatewayUrl, { email: uniqueEmail('contract'), forwardedFor: freshIp() });
    await send('patch', `/api/accounts/${victim.id}/status`, { token: adminToken, body: { status: 'disabled' } }).expect(200);
    for (let i = 0; i < GENERAL_LIMIT; i++) {
      await request(system.gatewayUrl).get('/api/me').set('x-forwarded-for', exhaustedIp).expect(401);
    }
  });

  afterAll(() => system?.close());

  function send(method: string, url: string, call: Call = {}) {
    let req = request(system.gatewayUrl)
      [method as 'get'](url)
      .set('user-agent', 'jest-e2e/1.0')
      .set('x-forwarded-for', call.ip ?? freshIp());
    if (call.token) req = req.set(bearer(call.token));
    if (call.raw) return req.set('content-type', call.raw.contentType).send(call.raw.text);
    return call.body === undefined ? req : req.send(call.body as object);
  }

  const fresh = () => registerAndLogin(system.gatewayUrl, { email: uniqueEmail('contract'), forwardedFor: freshIp() });
  let victim: TestUser;
  const victimId = () => victim.id;
  const tooLarge: Call = { raw: { text: TOO_LARGE, contentType: 'application/json' } };
  const latin1: Call = { raw: { text: '{}', contentType: 'application/json; charset=latin1' } };
  const noToken: Call = {};
  const spent: Call = { ip: exhaustedIp };
  const asAdmin =
    (body?: unknown): (() => Call) =>
    () => ({ token: adminToken, body });
  const asUser =
    (body?: unknown): (() => Call) =>
    () => ({ token: user.accessToken, body });

  /** Probes by documented operation; the first of each is its success. */
  const probes: Record<string, Probe[]> = {
    'get /health': [{ status: 200, url: '/health' }],
    'get /health/ready': [{ status: 200, url: '/health/ready' }],
    'get /metrics': [{ status: 200, url: '/metrics' }],
    'get /.well-known/jwks.json': [{ status: 200, url: '/.well-known/jwks.json' }],
    'post /api/auth/register': [
      {
        status: 201,
        url: '/api/auth/register',
        call: () => ({ body: { email: uniqueEmail('reg'), password: 'plum satellite harbour 8' } }),
      },
      { status: 400, url: '/api/auth/register', call: { body: { email: 'not an email', password: 'short' } } },
      { status: 409, url: '/api/auth/register', call: () => ({ body: { email: user.email, password: 'plum satellite harbour 8' } }) },
      { status: 413, url: '/api/auth/register', call: tooLarge },
      { status: 415, url: '/api/auth/register', call: latin1 },
      { status: 429, url: '/api/auth/register', call: spent },
    ],
    'post /api/auth/login': [
      { status: 200, url: '/api/auth/login', call: () => ({ body: { email: user.email, password: user.password } }) },
      { status: 400, url: '/api/auth/login', call: { body: { email: 'x' } } },
      { status: 401, url: '/api/auth/login', call: () => ({ body: { email: user.email, password: 'not the password at all' } }) },
      { status: 403, url: '/api/auth/login', call: () => ({ body: { email: victim.email, password: victim.password } }) },
      { status: 413, url: '/api/auth/login', call: tooLarge },
      { status: 415, url: '/api/auth/login', call: latin1 },
      { status: 429, url: '/api/auth/login', call: spent },
    ],
    'post /api/auth/refresh': [
      { status: 200, url: '/api/auth/refresh', call: async () => ({ body: { refreshToken: (await fresh()).refreshToken } }) },
      { status: 400, url: '/api/auth/refresh', call: { body: { refreshToken: 42 } } },
      { status: 401, url: '/api/auth/refresh', call: { body: { refreshToken: 'a.b.c.d' } } },
      { status: 413, url: '/api/auth/refresh', call: tooLarge },
      { status: 415, url: '/api/auth/refresh', call: latin1 },
      { status: 429, url: '/api/auth/refresh', call: spent },
    ],
    'post /api/auth/logout': [
      { status: 204, url: '/api/auth/logout', call: async () => ({ token: (await fresh()).accessToken }) },
      { status: 401, url: '/api/auth/logout', call: noToken },
      { status: 429, url: '/api/auth/logout', call: spent },
    ],
    'post /api/auth/password': [
      {
        status: 204,
        url: '/api/auth/password',
        call: async () => {
          const u = await fresh();
          return { token: u.accessToken, body: { currentPassword: u.password, newPassword: 'fresh lantern meadow 31' } };
        },
      },
      { status: 400, url: '/api/auth/password', call: asUser({ currentPassword: 'whatever it is', newPassword: 'short' }) },
      { status: 401, url: '/api/auth/password', call: noToken },
      { status: 413, url: '/api/auth/password', call: () => ({ ...tooLarge, token: user.accessToken }) },
      { status: 415, url: '/api/auth/password', call: () => ({ ...latin1, token: user.accessToken }) },
      { status: 429, url: '/api/auth/password', call: spent },
    ],
    'get /api/me': [
      { status: 200, url: '/api/me', call: asUser() },
      { status: 401, url: '/api/me', call: noToken },
      { status: 429, url: '/api/me', call: spent },
    ],
    'get /api/me/activity': [
      { status: 200, url: '/api/me/activity', call: asUser() },
      { status: 400, url: '/api/me/activity?cursor=not-a-cursor', call: asUser() },
      { status: 401, url: '/api/me/activity', call: noToken },
      { status: 429, url: '/api/me/activity', call: spent },
    ],
    'get /api/me/sessions': [
      { status: 200, url: '/api/me/sessions', call: asUser() },
      { status: 401, url: '/api/me/sessions', call: noToken },
      { status: 429, url: '/api/me/sessions', call: spent },
    ],
    'delete /api/me/sessions': [
      { status: 204, url: '/api/me/sessions', call: async () => ({ token: (await fresh()).accessToken }) },
      { status: 401, url: '/api/me/sessions', call: noToken },
      { status: 429, url: '/api/me/sessions', call: spent },
    ],
    'delete /api/me/sessions/{id}': [
      { status: 204, url: '/api/me/sessions/SELF', call: asUser() },
      { status: 404, url: `/api/me/sessions/${randomUUID()}`, call: asUser() },
      { status: 401, url: `/api/me/sessions/${randomUUID()}`, call: noToken },
      { status: 429, url: `/api/me/sessions/${randomUUID()}`, call: spent },
    ],
    'get /api/accounts': [
      { status: 200, url: '/api/accounts?status=disabled', call: asAdmin() },
      { status: 400, url: '/api/accounts?status=sleeping', call: asAdmin() },
      { status: 401, url: '/api/accounts?status=disabled', call: noToken },
      { status: 403, url: '/api/accounts?status=disabled', call: asUser() },
      { status: 413, url: '/api/accounts?status=disabled', call: () => ({ ...tooLarge, token: adminToken }) },
      { status: 415, url: '/api/accounts?status=disabled', call: () => ({ ...latin1, token: adminToken }) },
      { status: 429, url: '/api/accounts?status=disabled', call: spent },
    ],
    'get /api/accounts/{id}/events': [
      { status: 200, url: () => `/api/accounts/${user.id}/events`, call: asAdmin() },
      { status: 400, url: '/api/accounts/not-a-uuid/events', call: asAdmin() },
      { status: 401, url: () => `/api/accounts/${user.id}/events`, call: noToken },
      { status: 403, url: () => `/api/accounts/${user.id}/events`, call: asUser() },
      { status: 404, url: `/api/accounts/${randomUUID()}/events`, call: asAdmin() },
      { status: 413, url: () => `/api/accounts/${user.id}/events`, call: () => ({ ...tooLarge, token: adminToken }) },
      { status: 415, url: () => `/api/accounts/${user.id}/events`, call: () => ({ ...latin1, token: adminToken }) },
      { status: 429, url: () => `/api/accounts/${user.id}/events`, call: spent },
    ],
    'patch /api/accounts/{id}/unlock': [
      { status: 200, url: () => `/api/accounts/${user.id}/unlock`, call: asAdmin() },
      { status: 400, url: '/api/accounts/not-a-uuid/unlock', call: asAdmin() },
      { status: 401, url: () => `/api/accounts/${user.id}/unlock`, call: noToken },
      { status: 403, url: () => `/api/accounts/${user.id}/unlock`, call: asUser() },
      { status: 404, url: `/api/accounts/${randomUUID()}/unlock`, call: asAdmin() },
      { status: 413, url: () => `/api/accounts/${user.id}/unlock`, call: () => ({ ...tooLarge, token: adminToken }) },
      { status: 415, url: () => `/api/accounts/${user.id}/unlock`, call: () => ({ ...latin1, token: adminToken }) },
      { status: 429, url: () => `/api/accounts/${user.id}/unlock`, call: spent },
    ],
    'get /api/accounts/{id}/lockout': [
      { status: 200, url: () => `/api/accounts/${user.id}/lockout`, call: asAdmin() },
      { status: 400, url: '/api/accounts/not-a-uuid/lockout', call: asAdmin() },
      { status: 401, url: () => `/api/accounts/${user.id}/lockout`, call: noToken },
      { status: 403, url: () => `/api/accounts/${user.id}/lockout`, call: asUser() },
      { status: 404, url: `/api/accounts/${randomUUID()}/lockout`, call: asAdmin() },
      { status: 413, url: () => `/api/accounts/${user.id}/lockout`, call: () => ({ ...tooLarge, token: adminToken }) },
      { status: 415, url: () => `/api/accounts/${user.id}/lockout`, call: () => ({ ...latin1, token: adminToken }) },
      { status: 429, url: () => `/api/accounts/${user.id}/lockout`, call: spent },
    ],
    'delete /api/accounts/{id}/sessions': [
      { status: 204, url: () => `/api/accounts/${victimId()}/sessions`, call: asAdmin() },
      { status: 403, url: () => `/api/accounts/${user.id}/sessions`, call: asUser() },
      { status: 404, url: `/api/accounts/${randomUUID()}/sessions`, call: asAdmin() },
      { status: 401, url: () => `/api/accounts/${user.id}/sessions`, call: noToken },
      { status: 400, url: '/api/accounts/not-a-uuid/sessions', call: asAdmin() },
      { status: 413, url: () => `/api/accounts/${victimId()}/sessions`, call: () => ({ ...tooLarge, token: adminToken }) },
      { status: 415, url: () => `/api/accounts/${victimId()}/sessions`, call: () => ({ ...latin1, token: adminToken }) },
      { status: 429, url: () => `/api/accounts/${user.id}/sessions`, call: spent },
    ],
    'patch /api/accounts/{id}/role': [
      { status: 200, url: () => `/api/accounts/${victimId()}/role`, call: asAdmin({ role: 'user' }) },
      { status: 400, url: () => `/api/accounts/${victimId()}/role`, call: asAdmin({ role: 'root' }) },
      { status: 404, url: `/api/accounts/${randomUUID()}/role`, call: asAdmin({ role: 'user' }) },
      { status: 409, url: () => `/api/accounts/${adminId}/role`, call: asAdmin({ role: 'user' }) },
      { status: 413, url: () => `/api/accounts/${victimId()}/role`, call: () => ({ ...tooLarge, token: adminToken }) },
      { status: 415, url: () => `/api/accounts/${victimId()}/role`, call: () => ({ ...latin1, token: adminToken }) },
      { status: 403, url: () => `/api/accounts/${victimId()}/role`, call: asUser({ role: 'admin' }) },
      { status: 401, url: () => `/api/accounts/${victimId()}/role`, call: noToken },
      { status: 429, url: () => `/api/accounts/${victimId()}/role`, call: spent },
    ],
    'patch /api/accounts/{id}/status': [
      { status: 200, url: () => `/api/accounts/${victimId()}/status`, call: asAdmin({ status: 'disabled' }) },
      { status: 400, url: () => `/api/accounts/${victimId()}/status`, call: asAdmin({ status: 'gone' }) },
      { status: 404, url: `/api/accounts/${randomUUID()}/status`, call: asAdmin({ status: 'disabled' }) },
      { status: 409, url: () => `/api/accounts/${adminId}/status`, call: asAdmin({ status: 'disabled' }) },
      { status: 403, url: () => `/api/accounts/${victimId()}/status`, call: asUser({ status: 'active' }) },
      { status: 401, url: () => `/api/accounts/${victimId()}/status`, call: noToken },
      { status: 413, url: () => `/api/accounts/${victimId()}/status`, call: () => ({ ...tooLarge, token: adminToken }) },
      { status: 415, url: () => `/api/accounts/${victimId()}/status`, call: () => ({ ...latin1, token: adminToken }) },
      { status: 429, url: () => `/api/accounts/${victimId()}/status`, call: spent },
    ],
    'get /api/profile': [
      { status: 200, url: '/api/profile', call: asUser() },
      { status: 401, url: '/api/profile', call: noToken },
      { status: 429, url: '/api/profile', call: spent },
    ],
    'patch /api/profile': [
      { status: 200, url: '/api/profile', call: asUser({ displayName: 'Ada' }) },
      { status: 400, url: '/api/profile', call: asUser({ displayName: 'x'.repeat(101) }) },
      { status: 401, url: '/api/profile', call: noToken },
      { status: 413, url: '/api/profile', call: () => ({ ...tooLarge, token: user.accessToken }) },
      { status: 415, url: '/api/profile', call: () => ({ ...latin1, token: user.accessToken }) },
      { status: 429, url: '/api/profile', call: spent },
    ],
  };

  it('is a valid OpenAPI document listing every route of every app, services under /api', async () => {
    await validateOpenApiDocument(document);
    const documented = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect(documented.sort()).toEqual(Object.keys(probes).sort());
  });

  it('declares no status the probes do not provoke, but those that need a broken dependency', () => {
    const unprovoked = Object.entries(document.paths).flatMap(([path, item]) =>
      Object.entries(item as Record<string, { responses: Record<string, unknown> }>).flatMap(([method, operation]) => {
        const probed = new Set((probes[`${method} ${path}`] ?? []).map((p) => String(p.status)));
        const allowed = new Set(NOT_PROVOKED[`${method} ${path}`] ?? GATEWAY_FAILURES);
        return Object.keys(operation.responses)
          .filter((status) => !probed.has(status) && !allowed.has(status))
          .map((status) => `${method} ${path} ${status}`);
      }),
    );
    expect(unprovoked).toEqual([]);
  });

  it('declares the error schema, closed, with `message` a string or a list of strings', () => {
    const schema = document.components?.schemas?.Error as Record<string, unknown>;
    expect(schema).toMatchObject({ required: ['statusCode', 'message'], additionalProperties: false });
    expect(schema.properties).toMatchObject({ message: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] } });
  });

  it('declares request limits that match the validators', () => {
    const schemas = document.components?.schemas as Record<
      string,
      { properties: Record<string, { minLength?: number; maxLength?: number }> }
    >;
    expect(schemas.RegisterDto.properties.password).toMatchObject({ minLength: 15, maxLength: 128 });
    expect(schemas.RegisterDto.properties.email).toMatchObject({ maxLength: 254 });
    expect(schemas.LoginDto.properties.password).toMatchObject({ maxLength: 1024 });
    expect(schemas.RefreshDto.properties.refreshToken).toMatchObject({ maxLength: 256 });
    expect(schemas.ChangePasswordDto.properties.newPassword).toMatchObject({ minLength: 15, maxLength: 128 });
    expect(schemas.UpdateProfileDto.properties.displayName).toMatchObject({ minLength: 1, maxLength: 100 });
  });

  for (const [operation, list] of Object.entries(probes)) {
    const [method, path] = operation.split(' ');
    it(`${operation}: ${list.map((p) => p.status).join(', ')} are declared with their body and headers`, async () => {
      for (const probe of list) {
        let url = typeof probe.url === 'function' ? probe.url() : probe.url;
        const call = typeof probe.call === 'function' ? await probe.call() : probe.call;
        if (url.endsWith('/SELF')) {
          // A second session of the user, ended through its id.
          const other = await login(system.gatewayUrl, user.email, user.password, { forwardedFor: freshIp() });
          const sessions = await send('get', '/api/me/sessions', { token: other.accessToken });
          url = url.replace('SELF', (sessions.body as { id: string; current: boolean }[]).find((s) => s.current)!.id);
        }
        const res = await send(method, url, call);
        expect({ url, status: res.status, body: res.body }).toMatchObject({ status: probe.status });
        expect(contract.problems(method, path, res)).toEqual([]);
      }
    });
  }
});
