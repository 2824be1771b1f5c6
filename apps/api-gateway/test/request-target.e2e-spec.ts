import {
  callFrom,
  freshLoopbackIp,
  registerAndLogin,
  startTestSystem,
  TEST_PASSWORD,
  type TestSystem,
  type TestUser,
} from '../../../test/support';

/**
 * The gateway picks a route, its guards and budgets on the path as Express reads it, and the
 * service must be sent that same path: a target that another parser resolves differently (dot
 * segments, backslashes, encoded separators) is refused before routing, so it can neither skip the
 * login budget through an authenticated route nor reach service routes the gateway does not list.
 */
describe('request targets the gateway and a service could read differently', () => {
  let system: TestSystem;
  let user: TestUser;

  beforeAll(async () => {
    system = await startTestSystem({ label: 'gw_target' });
    user = await registerAndLogin(system.gatewayUrl);
  });
  afterAll(() => system?.close());

  const sendAsWritten = (target: string, from: string, body?: unknown) =>
    callFrom(system.gatewayUrl, body === undefined ? 'GET' : 'POST', target, {
      from,
      body,
      asWritten: true,
      headers: { authorization: `Bearer ${user.accessToken}` },
    });

  it('cannot log in through an authenticated route once the address has spent its logins', async () => {
    const from = freshLoopbackIp();
    const credentials = { email: user.email, password: TEST_PASSWORD };
    for (let i = 0; i < 5; i++)
      expect((await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: credentials })).status).toBe(200);
    expect((await callFrom(system.gatewayUrl, 'POST', '/api/auth/login', { from, body: credentials })).status).toBe(429);

    for (const target of [
      'http://gw/api/me/../auth/login',
      'http://gw/api/me/%2e%2e/auth/login',
      'http://gw/api/me\\..\\auth\\login',
      'http://gw/api/accounts/../auth/login',
      '/api/me/../auth/login',
      '/api/me/%2E%2e/auth/login',
      '/api/profile/..%2fauth/login',
    ]) {
      const res = await sendAsWritten(target, from, credentials);
      expect({ target, status: res.status, body: res.body }).toEqual({
        target,
        status: 400,
        body: { statusCode: 400, message: expect.any(String) },
      });
    }
  });

  it('does not reach service routes the gateway does not list', async () => {
    const from = freshLoopbackIp();
    expect((await callFrom(system.gatewayUrl, 'GET', '/api/metrics', { from })).status).toBe(404);
    for (const target of [
      'http://gw/api/me/../metrics',
      'http://gw/api/profile/../docs',
      '/api/me/%2e%2e/metrics',
      // A dot segment ended by a fragment: Express routes `/api/profile/..`, a normalising hop `/`.
      '/api/profile/..#',
      'http://gw/api/me/sessions/x/.%2E#y',
    ]) {
      const res = await sendAsWritten(target, from);
      expect({ target, status: res.status }).toEqual({ target, status: 400 });
      expect(JSON.stringify(res.body)).not.toContain('# HELP');
    }
  });

  it('still serves an absolute-form target without dot segments, on the path it routed', async () => {
    const res = await sendAsWritten('http://gw/api/me/sessions', freshLoopbackIp());
    expect(res.status).toBe(200);
    expect(Array.isArray(res.body) || Array.isArray((res.body as { items?: unknown }).items)).toBe(true);
  });
});
