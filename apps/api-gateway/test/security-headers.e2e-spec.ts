import { request as httpRequest } from 'node:http';

import { registerAndLogin, startTestSystem, type TestSystem, type TestUser } from '../../../test/support';

interface Answer {
  status: number;
  /** Every header line, lower-cased names, repeats kept. */
  lines: [string, string][];
  body: string;
}

function fetchRaw(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, baseUrl), { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const lines: [string, string][] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) lines.push([res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]]);
        resolve({ status: res.statusCode ?? 0, lines, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The value of a header that must be sent exactly once. */
function single(answer: Answer, name: string): string | undefined {
  const values = answer.lines.filter(([n]) => n === name).map(([, v]) => v);
  if (values.length > 1) throw new Error(`${name} sent ${values.length} times: ${JSON.stringify(values)}`);
  return values[0];
}

function securityHeadersOf(answer: Answer) {
  return {
    nosniff: single(answer, 'x-content-type-options'),
    referrer: single(answer, 'referrer-policy'),
    frame: single(answer, 'x-frame-options'),
    frameAncestors: /(^|;)\s*frame-ancestors 'none'\s*(;|$)/.test(single(answer, 'content-security-policy') ?? ''),
    poweredBy: single(answer, 'x-powered-by'),
  };
}

const EXPECTED = { nosniff: 'nosniff', referrer: 'no-referrer', frame: 'DENY', frameAncestors: true, poweredBy: undefined };

/**
 * Every response of every app carries the security headers once, whoever wrote it: a controller,
 * the error filter, the 404 handler, the body parser, Swagger UI, or a service whose answer the
 * gateway relays.
 */
describe('security headers', () => {
  let system: TestSystem;
  let user: TestUser;

  beforeAll(async () => {
    system = await startTestSystem({ label: 'security-headers' });
    user = await registerAndLogin(system.gatewayUrl);
  });
  afterAll(() => system?.close());

  const bearer = () => ({ Authorization: `Bearer ${user.accessToken}` });
  const json = { 'Content-Type': 'application/json' };
  const cases: [string, () => Promise<Answer>][] = [
    ['gateway: its own health answer', () => fetchRaw(system.gatewayUrl, 'GET', '/health')],
    ['gateway: an unknown path (404)', () => fetchRaw(system.gatewayUrl, 'GET', '/api/no-such-route')],
    ['gateway: no token (401 from its guard)', () => fetchRaw(system.gatewayUrl, 'GET', '/api/me')],
    ['gateway: a relayed auth-service answer', () => fetchRaw(system.gatewayUrl, 'GET', '/api/me', bearer())],
    ['gateway: a relayed profile-service answer', () => fetchRaw(system.gatewayUrl, 'GET', '/api/profile', bearer())],
    ['gateway: a relayed body refusal (400)', () => fetchRaw(system.gatewayUrl, 'POST', '/api/auth/login', json, '{"email":')],
    [
      'gateway: a relayed charset refusal (415)',
      () => fetchRaw(system.gatewayUrl, 'POST', '/api/auth/login', { 'Content-Type': 'application/json; charset=utf-7' }, '{}'),
    ],
    ['auth-service: a controller answer', () => fetchRaw(system.authUrl, 'GET', '/me', bearer())],
    ['auth-service: an unknown path (404)', () => fetchRaw(system.authUrl, 'GET', '/no-such-route')],
    ['auth-service: a body refusal (400)', () => fetchRaw(system.authUrl, 'POST', '/auth/login', json, '[')],
    ['auth-service: Swagger UI', () => fetchRaw(system.authUrl, 'GET', '/docs')],
    ['auth-service: Swagger UI script', () => fetchRaw(system.authUrl, 'GET', '/docs/swagger-ui-init.js')],
    ['auth-service: OpenAPI document', () => fetchRaw(system.authUrl, 'GET', '/docs-json')],
    ['profile-service: no token (401)', () => fetchRaw(system.profileUrl, 'GET', '/profile')],
    ['profile-service: an unknown path (404)', () => fetchRaw(system.profileUrl, 'GET', '/no-such-route')],
  ];

  it.each(cases)('%s: nosniff, no referrer, no framing, each sent once; no HSTS by default', async (_name, send) => {
    const answer = await send();
    expect(securityHeadersOf(answer)).toEqual(EXPECTED);
    expect(single(answer, 'strict-transport-security')).toBeUndefined();
  });

  it('keeps API answers out of caches', async () => {
    for (const [url, method, path, headers] of [
      [system.gatewayUrl, 'GET', '/api/me', bearer()],
      [system.gatewayUrl, 'GET', '/api/me', {}],
      [system.authUrl, 'POST', '/auth/login', json],
      [system.profileUrl, 'GET', '/profile', bearer()],
    ] as const) {
      const answer = await fetchRaw(url, method, path, headers, method === 'POST' ? '{"email":' : undefined);
      expect({ path, cacheControl: single(answer, 'cache-control') }).toEqual({ path, cacheControl: 'no-store' });
    }
  });

  it('gives JSON answers a policy that allows no content, and Swagger UI one it runs under (same-origin scripts only)', async () => {
    const api = single(await fetchRaw(system.gatewayUrl, 'GET', '/api/me'), 'content-security-policy');
    expect(api).toMatch(/(^|;)default-src 'none'(;|$)/);

    // Each app's Swagger UI: the gateway's (every route) and each service's own.
    for (const base of [system.gatewayUrl, system.authUrl, system.profileUrl]) {
      const page = await fetchRaw(base, 'GET', '/docs');
      expect({ base, status: page.status }).toEqual({ base, status: 200 });
      const csp = new Map(
        (single(page, 'content-security-policy') ?? '').split(';').map((d) => {
          const [name, ...values] = d.trim().split(/\s+/);
          return [name, values] as const;
        }),
      );
      expect({ base, scriptSrc: csp.get('script-src') }).toEqual({ base, scriptSrc: ["'self'"] });
      // Every script is a file of the app's own: nothing inline, nothing from elsewhere.
      const scripts = [...page.body.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBeGreaterThan(0);
      const assets = [...page.body.matchAll(/<link\b[^>]*rel="stylesheet"[^>]*href="([^"]+)"/g)].map((m) => m[1]);
      for (const [, attributes, code] of scripts) {
        expect(code.trim()).toBe('');
        assets.push(/src="([^"]+)"/.exec(attributes)?.[1] as string);
      }
      // The page has an inline <style> block and Swagger UI sets style attributes: styles may be inline.
      if (/<style\b/.test(page.body)) expect(csp.get('style-src')).toContain("'unsafe-inline'");
      for (const asset of assets) {
        const url = new URL(asset, `${base}/docs`);
        expect(url.origin).toBe(new URL(base).origin);
        const loaded = await fetchRaw(base, 'GET', url.pathname);
        expect({ base, asset, status: loaded.status }).toEqual({ base, asset, status: 200 });
      }
    }
  });
});

describe('security headers: HSTS when configured', () => {
  let system: TestSystem;
  let user: TestUser;

  beforeAll(async () => {
    system = await startTestSystem({ label: 'security-headers-hsts', env: { HSTS_MAX_AGE_SECONDS: '31536000' } });
    user = await registerAndLogin(system.gatewayUrl);
  });
  afterAll(() => system?.close());

  it('sends Strict-Transport-Security once on the gateway’s own and relayed answers, and at the services', async () => {
    const answers = [
      await fetchRaw(system.gatewayUrl, 'GET', '/api/me'),
      await fetchRaw(system.gatewayUrl, 'GET', '/api/me', { Authorization: `Bearer ${user.accessToken}` }),
      await fetchRaw(system.authUrl, 'GET', '/docs'),
      await fetchRaw(system.profileUrl, 'GET', '/no-such-route'),
    ];
    for (const answer of answers) expect(single(answer, 'strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
  });
});
