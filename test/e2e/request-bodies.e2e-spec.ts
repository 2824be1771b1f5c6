import {
  encodeText,
  rawRequest,
  registerAndLogin,
  startTestSystem,
  uniqueEmail,
  UNLIMITED_BUDGETS,
  type RawResponse,
  type TestSystem,
  type TestUser,
} from '../support';

/**
 * What a JSON body may be: UTF-8 text (however the charset is spelled), nested no deeper and
 * holding no more members than the limits. Any other charset is a 415 before the body is parsed, and no refusal quotes the body.
 * Checked at auth-service itself and through the gateway, which streams bodies untouched.
 */
describe('request bodies: UTF-8 JSON only, refusals that quote nothing', () => {
  let system: TestSystem;
  let user: TestUser;

  beforeAll(async () => {
    system = await startTestSystem({
      label: 'request-bodies',
      gatewayEnv: UNLIMITED_BUDGETS.gatewayEnv,
      authEnv: UNLIMITED_BUDGETS.authEnv,
    });
    user = await registerAndLogin(system.gatewayUrl);
  });
  afterAll(() => system?.close());

  const targets = [
    ['at auth-service', () => system.authUrl, '/auth'],
    ['through the gateway', () => system.gatewayUrl, '/api/auth'],
  ] as const;

  function post(url: string, path: string, contentType: string, body: Buffer, token?: string): Promise<RawResponse> {
    const headers: [string, string][] = [['Content-Type', contentType]];
    if (token) headers.push(['Authorization', `Bearer ${token}`]);
    return rawRequest(url, { method: 'POST', path, headers, body });
  }

  /** 5,000 levels of arrays after a string holding U+2200: in UTF-16LE its bytes 00 22 look like a lone quote to a byte scanner. */
  const DEEP = `["\u2200",${'['.repeat(5000)}${']'.repeat(5000)}]`;

  describe.each(targets)('%s', (_where, url, prefix) => {
    it.each(['utf-16le', 'utf-16be', 'utf-16', 'utf-7', 'latin1'] as const)(
      'refuses a deeply nested body in %s with 415, not a 500',
      async (charset) => {
        for (const route of ['login', 'register', 'refresh']) {
          const res = await post(url(), `${prefix}/${route}`, `application/json; charset=${charset}`, encodeText(DEEP, charset));
          expect({ route, status: res.status, body: JSON.parse(res.body) }).toEqual({
            route,
            status: 415,
            body: { statusCode: 415, message: 'Request body must be JSON encoded as UTF-8' },
          });
        }
      },
    );

    it('refuses an ordinary body declared in another charset with 415, on an authenticated route too', async () => {
      const body = JSON.stringify({ currentPassword: user.password, newPassword: 'another long passphrase 42' });
      for (const charset of ['utf-16le', 'utf-7', 'UTF-16', '"utf-7"', 'utf-32', 'iso-8859-1', 'utf8'] as const) {
        const res = await post(url(), `${prefix}/password`, `application/json; charset=${charset}`, Buffer.from(body), user.accessToken);
        expect({ charset, status: res.status }).toEqual({ charset, status: 415 });
      }
    });

    it.each([
      ['charset=utf-8', 'application/json; charset=utf-8'],
      ['charset=UTF-8', 'application/json; charset=UTF-8'],
      ['charset="UTF-8"', 'application/json; charset="UTF-8"'],
      ['no charset', 'application/json'],
    ])('accepts UTF-8 declared as %s, with or without a byte-order mark', async (_name, contentType) => {
      for (const bom of ['', '\ufeff']) {
        const res = await post(
          url(),
          `${prefix}/login`,
          contentType,
          Buffer.from(`${bom}${JSON.stringify({ email: user.email, password: 'not the password at all' })}`),
        );
        // Parsed and validated: the answer is about the credentials, not about the body.
        expect({ bom: bom.length, status: res.status }).toEqual({ bom: bom.length, status: 401 });
      }
    });

    it('answers malformed JSON without quoting any of it', async () => {
      const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
      const bodies = [
        `{"password": ${secret}}`,
        secret,
        `{"email":"a@b.co","password":"${secret}`,
        `{"password":"${secret}"}}`,
        `[${secret}]`,
      ];
      for (const body of bodies) {
        const res = await post(url(), `${prefix}/login`, 'application/json', Buffer.from(body));
        expect({ body, status: res.status, answer: JSON.parse(res.body) }).toEqual({
          body,
          status: 400,
          answer: { statusCode: 400, message: 'Malformed request body' },
        });
      }
    });

    it('refuses a body of thousands of members before validating it (whose cost grows faster than the body)', async () => {
      const wide = {
        email: user.email,
        password: 'x'.repeat(12),
        ...Object.fromEntries(Array.from({ length: 9000 }, (_, i) => [`k${i}`, 1])),
      };
      for (const route of ['login', 'register', 'refresh']) {
        const res = await post(url(), `${prefix}/${route}`, 'application/json', Buffer.from(JSON.stringify(wide)));
        expect({ route, status: res.status, body: JSON.parse(res.body) }).toEqual({
          route,
          status: 400,
          body: { statusCode: 400, message: 'Malformed request body' },
        });
      }
    });

    it('does not name an unknown property the client sent', async () => {
      const secret = 'sk_live_4eC39HqLyjWDarjtT1zdp7dc';
      const res = await post(
        url(),
        `${prefix}/login`,
        'application/json',
        Buffer.from(JSON.stringify({ email: user.email, password: 'x'.repeat(12), [secret]: 1 })),
      );
      expect(res.status).toBe(400);
      expect(res.body).not.toContain(secret);
      expect(JSON.parse(res.body)).toMatchObject({
        statusCode: 400,
        message: expect.arrayContaining(['the body has a property that is not allowed']),
      });
    });

    it('refuses an email holding a lone UTF-16 surrogate with 400, not a 500', async () => {
      // JSON may carry one (`\ud800`); the email validator's encodeURI throws on it.
      const body = Buffer.from(JSON.stringify({ email: 'a\ud800b@example.com', password: 'a fine long passphrase 9' }));
      expect(body.toString()).toContain('\\ud800');
      for (const route of ['login', 'register']) {
        const res = await post(url(), `${prefix}/${route}`, 'application/json', body);
        expect({ route, status: res.status }).toEqual({ route, status: 400 });
      }
    });
  });

  /**
   * A body is read as UTF-8 text; decoding bytes that are not, or a `\u` escape of half a surrogate
   * pair, yields U+FFFD, and every such password would be one password. Refused as malformed instead.
   */
  describe.each([
    ['at the services', () => system.authUrl, '', () => system.profileUrl],
    ['through the gateway', () => system.gatewayUrl, '/api', () => system.gatewayUrl],
  ] as const)('text that is not Unicode, %s', (_where, authUrl, prefix, profileUrl) => {
    const MALFORMED = { statusCode: 400, message: 'Malformed request body' };
    /** A registration whose password holds `middle` (raw bytes) between two ordinary words. */
    const registration = (middle: Buffer) =>
      Buffer.concat([Buffer.from(`{"email":"${uniqueEmail('text')}","password":"maple harbour `), middle, Buffer.from(' lantern 42"}')]);

    it.each([
      ['a Latin-1 byte (0xE9)', Buffer.from([0xe9])],
      ['a truncated sequence (0xC3)', Buffer.from([0xc3])],
      ['an encoded surrogate (0xED 0xA0 0x80)', Buffer.from([0xed, 0xa0, 0x80])],
      ['an overlong slash (0xC0 0xAF)', Buffer.from([0xc0, 0xaf])],
      ['an escaped high surrogate alone (\\ud800)', Buffer.from('\\ud800')],
      ['an escaped low surrogate alone (\\udfff)', Buffer.from('\\udfff')],
      ['two escaped high surrogates (\\ud800\\ud800)', Buffer.from('\\ud800\\ud800')],
    ])('refuses a password holding %s with 400, and registers nothing', async (_name, middle) => {
      const body = registration(middle);
      const res = await post(authUrl(), `${prefix}/auth/register`, 'application/json', body);
      expect({ status: res.status, body: JSON.parse(res.body) }).toEqual({ status: 400, body: MALFORMED });
      const email = (/"email":"([^"]+)"/.exec(body.toString('latin1')) as RegExpExecArray)[1];
      const login = await post(
        authUrl(),
        `${prefix}/auth/login`,
        'application/json',
        Buffer.from(JSON.stringify({ email, password: 'maple harbour \ufffd lantern 42' })),
      );
      expect(login.status).toBe(401);
    });

    it('accepts a character written as an escaped surrogate pair (\\ud83d\\ude00) and as UTF-8, as one password', async () => {
      const body = registration(Buffer.from('\\ud83d\\ude00'));
      const res = await post(authUrl(), `${prefix}/auth/register`, 'application/json', body);
      expect(res.status).toBe(201);
      const { email } = JSON.parse(res.body) as { email: string };
      const login = await post(
        authUrl(),
        `${prefix}/auth/login`,
        'application/json',
        Buffer.from(JSON.stringify({ email, password: 'maple harbour \u{1f600} lantern 42' })),
      );
      expect(login.status).toBe(200);
    });

    it('leaves the display name as it was when the new one is not valid UTF-8', async () => {
      const owner = await registerAndLogin(system.gatewayUrl);
      const headers: [string, string][] = [
        ['Content-Type', 'application/json'],
        ['Authorization', `Bearer ${owner.accessToken}`],
      ];
      const set = await rawRequest(profileUrl(), {
        method: 'PATCH',
        path: `${prefix}/profile`,
        headers,
        body: Buffer.from('{"displayName":"Ren\u00e9e"}'),
      });
      expect(set.status).toBe(200);
      const res = await rawRequest(profileUrl(), {
        method: 'PATCH',
        path: `${prefix}/profile`,
        headers,
        body: Buffer.concat([Buffer.from('{"displayName":"Ren'), Buffer.from([0xe9]), Buffer.from('"}')]),
      });
      expect({ status: res.status, body: JSON.parse(res.body) }).toEqual({ status: 400, body: MALFORMED });
      const after = await rawRequest(profileUrl(), { method: 'GET', path: `${prefix}/profile`, headers });
      expect(JSON.parse(after.body)).toMatchObject({ displayName: 'Ren\u00e9e' });
    });
  });

  /**
   * Only `application/json` bodies are parsed. Any other body reached the handler as no body at all:
   * a PATCH of the profile was answered 200 and its change dropped.
   */
  describe.each([
    ['at the services', () => system.authUrl, '', () => system.profileUrl],
    ['through the gateway', () => system.gatewayUrl, '/api', () => system.gatewayUrl],
  ] as const)('bodies of another media type, %s', (_where, authUrl, prefix, profileUrl) => {
    const UNSUPPORTED = { statusCode: 415, message: 'Request body must be application/json' };

    it.each([
      ['text/plain', [['Content-Type', 'text/plain']]],
      ['text/plain; charset=utf-8', [['Content-Type', 'text/plain; charset=utf-8']]],
      ['application/merge-patch+json', [['Content-Type', 'application/merge-patch+json']]],
      ['application/x-www-form-urlencoded', [['Content-Type', 'application/x-www-form-urlencoded']]],
      ['an unparsable type', [['Content-Type', 'application/json, text/plain']]],
      ['no Content-Type', []],
    ] as const)('refuses a profile change sent as %s with 415, and keeps the name', async (_name, typeHeader) => {
      const owner = await registerAndLogin(system.gatewayUrl);
      const auth: [string, string] = ['Authorization', `Bearer ${owner.accessToken}`];
      const res = await rawRequest(profileUrl(), {
        method: 'PATCH',
        path: `${prefix}/profile`,
        headers: [...(typeHeader as unknown as [string, string][]), auth],
        body: Buffer.from(JSON.stringify({ displayName: 'Ada' })),
      });
      expect({ status: res.status, body: JSON.parse(res.body) }).toEqual({ status: 415, body: UNSUPPORTED });
      const after = await rawRequest(profileUrl(), { method: 'GET', path: `${prefix}/profile`, headers: [auth] });
      expect(JSON.parse(after.body)).toMatchObject({ displayName: null });
    });

    it('refuses a login sent as form data with 415, not a 400 that says the email is missing', async () => {
      const res = await post(
        authUrl(),
        `${prefix}/auth/login`,
        'application/x-www-form-urlencoded',
        Buffer.from(`email=${encodeURIComponent(user.email)}&password=x`),
      );
      expect({ status: res.status, body: JSON.parse(res.body) }).toEqual({ status: 415, body: UNSUPPORTED });
    });

    it('still serves a request without a body, with Content-Length: 0 or a JSON type and no bytes', async () => {
      const owner = await registerAndLogin(system.gatewayUrl);
      const auth: [string, string] = ['Authorization', `Bearer ${owner.accessToken}`];
      const profile = await rawRequest(profileUrl(), {
        method: 'GET',
        path: `${prefix}/profile`,
        headers: [auth, ['Content-Length', '0']],
      });
      expect(profile.status).toBe(200);
      const empty = await rawRequest(profileUrl(), {
        method: 'PATCH',
        path: `${prefix}/profile`,
        headers: [auth, ['Content-Type', 'application/json'], ['Content-Length', '0']],
      });
      expect(empty.status).toBe(200);
      const logout = await rawRequest(authUrl(), {
        method: 'POST',
        path: `${prefix}/auth/logout`,
        headers: [auth, ['Content-Length', '0']],
      });
      expect(logout.status).toBe(204);
    });

    // Node's own client frames a body-less POST chunked once it has flushed its headers
    // (`req.flushHeaders(); req.end()`): no body bytes, so no type is needed either.
    it('serves a chunked request that holds no bytes without a Content-Type, and refuses one that holds some', async () => {
      const owner = await registerAndLogin(system.gatewayUrl);
      const auth: [string, string] = ['Authorization', `Bearer ${owner.accessToken}`];
      const chunked: [string, string] = ['Transfer-Encoding', 'chunked'];
      const chunks = (text: string) =>
        Buffer.from(text.length > 0 ? `${Buffer.byteLength(text).toString(16)}\r\n${text}\r\n0\r\n\r\n` : '0\r\n\r\n');

      const others = await rawRequest(authUrl(), {
        method: 'DELETE',
        path: `${prefix}/me/sessions`,
        headers: [auth, chunked],
        body: chunks(''),
      });
      expect(others.status).toBe(204);
      const change = await rawRequest(profileUrl(), {
        method: 'PATCH',
        path: `${prefix}/profile`,
        headers: [auth, chunked],
        body: chunks(JSON.stringify({ displayName: 'Ada' })),
      });
      expect({ status: change.status, body: JSON.parse(change.body) }).toEqual({ status: 415, body: UNSUPPORTED });
      const after = await rawRequest(profileUrl(), { method: 'GET', path: `${prefix}/profile`, headers: [auth] });
      expect(JSON.parse(after.body)).toMatchObject({ displayName: null });
      const logout = await rawRequest(authUrl(), {
        method: 'POST',
        path: `${prefix}/auth/logout`,
        headers: [auth, chunked],
        body: chunks(''),
      });
      expect(logout.status).toBe(204);
    });
  });
});
