import { createHmac, createPublicKey, sign as cryptoSign, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';

import fc from 'fast-check';
import { sign } from 'jsonwebtoken';

import { withLowS } from '@nest-hardening/auth';
import { RefreshTokenCodec } from '@nest-hardening/sessions';

import {
  claimsOf,
  ecdsaTwin,
  fuzzParameters,
  fuzzSuite,
  hostileJsonValue,
  hostileString,
  internalDetailIn,
  login,
  rawRequest,
  registerAndLogin,
  type RawResponse,
  type TestSystem,
  type TestUser,
} from '../../../test/support';
import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../src/config/auth-service.config';
import { SigningKeyService } from '../src/keys/signing-key.service';

/**
 * Property-based fuzzing of access and refresh tokens (fast-check, seeded: FUZZ_SEED, FUZZ_SCALE):
 * truncated and bit-flipped tokens, forged headers (`alg: none`, HS256 with the public key, `kid`
 * pointing elsewhere), tokens re-signed with other keys and algorithms, tokens signed with the real
 * key but with wrong or huge claims, signatures spelled another way (the high-s twin, spare
 * base64url bits), and refresh tokens of every wrong format. Properties: no 5xx, nothing internal
 * in a response, and a protected route answers 200 only to a token the system itself would have
 * issued for a live session.
 */
describe('fuzz: access and refresh tokens, through the gateway and at profile-service', () => {
  const fuzz = fuzzSuite('fuzz-tokens');
  let system: TestSystem;
  let user: TestUser & { sessionId: string };
  let keys: { real: KeyObject; kid: string; otherEc: KeyObject; p384: KeyObject; rsa: KeyObject; publicPem: string; publicJwk: string };

  const ISSUER = 'auth-service';
  const AUDIENCE = 'payments-api';

  beforeAll(async () => {
    system = fuzz.system;
    const registered = await registerAndLogin(system.gatewayUrl);
    user = { ...registered, sessionId: claimsOf(registered.accessToken).sid as string };
    const signing = system.auth.get(SigningKeyService);
    const publicKey = createPublicKey(signing.privateKey);
    keys = {
      real: signing.privateKey,
      kid: signing.keyId,
      otherEc: generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
      p384: generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey,
      rsa: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey,
      publicPem: publicKey.export({ type: 'spki', format: 'pem' }) as string,
      publicJwk: JSON.stringify(publicKey.export({ format: 'jwk' })),
    };
  });

  const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');
  const now = () => Math.floor(Date.now() / 1000);

  function getWith(url: string, path: string, authorization: string | Buffer): Promise<RawResponse> {
    return rawRequest(url, { method: 'GET', path, headers: [['Authorization', authorization]] });
  }

  function expectSafe(res: RawResponse, what: string): void {
    if (res.status >= 500) throw new Error(`${what} → ${res.status} ${res.body.slice(0, 300)}`);
    const leak = internalDetailIn(res.body);
    if (leak) throw new Error(`${what} → ${res.status} reveals internals: ${JSON.stringify(leak)}`);
  }

  /** A token and whether the system may accept it (only what it would have issued itself). */
  interface Candidate {
    kind: string;
    token: string;
    mayAccept: boolean;
  }

  const base64urlChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split(''));

  function mutated(): fc.Arbitrary<Candidate> {
    const token = () => user.accessToken;
    return fc.oneof(
      fc
        .nat()
        .map((n) => ({ kind: 'truncated', cut: n % token().length }))
        .map(({ kind, cut }) => ({ kind, token: token().slice(0, cut), mayAccept: false })),
      fc.tuple(fc.nat(), base64urlChar).map(([n, c]) => {
        const t = token();
        const at = n % t.length;
        const candidate = t.slice(0, at) + c + t.slice(at + 1);
        // Another spelling of the same signature bytes (the last character's spare bits) is refused too.
        return { kind: `char ${at} → ${c}`, token: candidate, mayAccept: candidate === t };
      }),
      fc.tuple(fc.nat(), fc.string({ unit: 'binary', minLength: 1, maxLength: 5 })).map(([n, junk]) => {
        const t = token();
        const at = n % t.length;
        return { kind: `inserted at ${at}`, token: t.slice(0, at) + junk + t.slice(at), mayAccept: false };
      }),
      fc
        .constantFrom('drop-signature', 'empty-signature', 'extra-segment', 'swap', 'double', 'header-only', 'payload-as-header')
        .map((how) => {
          const [h, p, s] = token().split('.');
          const shapes: Record<string, string> = {
            'drop-signature': `${h}.${p}`,
            'empty-signature': `${h}.${p}.`,
            'extra-segment': `${h}.${p}.${s}.${s}`,
            swap: `${p}.${h}.${s}`,
            double: `${h}.${p}.${s}${s}`,
            'header-only': `${h}..`,
            'payload-as-header': `${p}.${p}.${s}`,
          };
          return { kind: how, token: shapes[how], mayAccept: false };
        }),
    );
  }

  function forgedHeader(): fc.Arbitrary<Candidate> {
    const alg = fc.constantFrom(
      'none',
      'None',
      'NONE',
      'nOnE',
      'HS256',
      'HS512',
      'RS256',
      'PS256',
      'ES384',
      'ES512',
      'EdDSA',
      'ES256',
      '',
      'ES256 ',
    );
    const kid = fc.oneof(
      fc.constant(undefined).map(() => keys.kid),
      fc.constantFrom(
        'unknown',
        '../../../../etc/passwd',
        'http://127.0.0.1:1/.well-known/jwks.json',
        '',
        '__proto__',
        'constructor',
        'toString',
        '*',
      ),
      fc.constantFrom(null, 0, 1, true, [], {}),
      hostileString(60),
    );
    const typ = fc.constantFrom('JWT', 'jwt', undefined, 'at+jwt', 'JWS');
    const payload = fc.oneof(
      fc.constant(undefined).map(() => b64({ ...claimsOf(user.accessToken), exp: now() + 600 })),
      fc.constant(undefined).map(() => b64({ ...claimsOf(user.accessToken), role: 'admin', exp: now() + 600 })),
      hostileJsonValue().map(b64),
      fc.string({ maxLength: 40 }).map(b64), // not JSON at all
      fc.constant(''),
    );
    const signature = fc.constantFrom('empty', 'original', 'hmac-public-pem', 'hmac-public-jwk', 'hmac-kid', 'random');
    return fc.tuple(alg, kid, typ, payload, signature, fc.uint8Array({ minLength: 1, maxLength: 90 })).map(([a, k, t, p, how, random]) => {
      const header = b64({ alg: a, typ: t, kid: k });
      const input = `${header}.${p}`;
      const sig =
        how === 'empty'
          ? ''
          : how === 'original'
            ? user.accessToken.split('.')[2]
            : how === 'random'
              ? Buffer.from(random).toString('base64url')
              : createHmac(
                  a === 'HS512' ? 'sha512' : 'sha256',
                  how === 'hmac-public-pem' ? keys.publicPem : how === 'hmac-public-jwk' ? keys.publicJwk : keys.kid,
                )
                  .update(input)
                  .digest('base64url');
      return {
        kind: `header alg=${JSON.stringify(a)} kid=${JSON.stringify(k)} typ=${JSON.stringify(t)} sig=${how}`,
        token: `${input}.${sig}`,
        mayAccept: false,
      };
    });
  }

  function resigned(): fc.Arbitrary<Candidate> {
    const signer = fc.constantFrom(
      'other P-256 as ES256',
      'P-384 as ES384',
      'RSA as RS256',
      'RSA as PS256',
      'HMAC with the public key',
      'HMAC with the kid',
    );
    return fc.tuple(signer, fc.boolean()).map(([how, realKid]) => {
      const claims: Record<string, unknown> = { ...claimsOf(user.accessToken), jti: randomUUID() };
      delete claims.exp;
      delete claims.iat;
      const base = { expiresIn: 300, keyid: realKid ? keys.kid : 'other' };
      const hmac = (secret: string) => {
        const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: base.keyid })}.${b64({ ...claims, exp: now() + 300 })}`;
        return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
      };
      const token =
        how === 'other P-256 as ES256'
          ? sign(claims, keys.otherEc, { ...base, algorithm: 'ES256' })
          : how === 'P-384 as ES384'
            ? sign(claims, keys.p384, { ...base, algorithm: 'ES384' })
            : how === 'RSA as RS256'
              ? sign(claims, keys.rsa, { ...base, algorithm: 'RS256' })
              : how === 'RSA as PS256'
                ? sign(claims, keys.rsa, { ...base, algorithm: 'PS256' })
                : hmac(how === 'HMAC with the kid' ? keys.kid : keys.publicPem);
      return { kind: `re-signed: ${how}, kid ${realKid ? 'real' : 'other'}`, token, mayAccept: false };
    });
  }

  /** Signed with the real key: accepted only when every claim is what auth-service would issue for the live session. */
  function realKeyClaims(): fc.Arbitrary<Candidate> {
    return fc
      .record({
        sub: fc.oneof(
          { weight: 4, arbitrary: fc.constant('<user>') },
          { weight: 1, arbitrary: fc.uuid() },
          { weight: 1, arbitrary: hostileJsonValue() },
        ),
        sid: fc.oneof(
          { weight: 4, arbitrary: fc.constant('<session>') },
          { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
          { weight: 1, arbitrary: hostileJsonValue() },
        ),
        role: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom('user', 'admin') },
          { weight: 1, arbitrary: fc.constantFrom('root', 'ADMIN', '', null, 1, ['admin']) },
        ),
        jti: fc.oneof({ weight: 4, arbitrary: fc.uuid() }, { weight: 1, arbitrary: hostileJsonValue() }),
        exp: fc.oneof(
          { weight: 4, arbitrary: fc.constant('+300') },
          { weight: 1, arbitrary: fc.constantFrom('-60', 'string', 'missing', '1e12') },
        ),
        iss: fc.oneof(
          { weight: 4, arbitrary: fc.constant(ISSUER) },
          { weight: 1, arbitrary: fc.constantFrom('Auth-Service', 'auth-service ', '', 'other') },
        ),
        aud: fc.oneof(
          { weight: 4, arbitrary: fc.constant<unknown>(AUDIENCE) },
          { weight: 1, arbitrary: fc.constantFrom<unknown>([AUDIENCE, 'other'], ['other'], 'other', '') },
        ),
        padding: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 100, max: 14_000 }) }),
        // The issuer's spelling (low s), or its twin (n - s), which plain ECDSA accepts as well.
        highS: fc.boolean(),
      })
      .map((c) => {
        const exp =
          c.exp === '+300' ? now() + 300 : c.exp === '-60' ? now() - 60 : c.exp === '1e12' ? 1e12 : c.exp === 'string' ? 'soon' : undefined;
        const claims: Record<string, unknown> = {
          sub: c.sub === '<user>' ? user.id : c.sub,
          sid: c.sid === '<session>' ? user.sessionId : c.sid,
          role: c.role,
          jti: c.jti,
          iss: c.iss,
          aud: c.aud,
          iat: now(),
          ...(exp === undefined ? {} : { exp }),
          ...(c.padding ? { pad: 'p'.repeat(c.padding) } : {}),
        };
        // Signed by hand: jsonwebtoken's sign() refuses malformed claims, a forger would not.
        const input = `${b64({ alg: 'ES256', typ: 'JWT', kid: keys.kid })}.${b64(claims)}`;
        const lowS = withLowS(
          `${input}.${cryptoSign('sha256', Buffer.from(input), { key: keys.real, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`,
        );
        const token = c.highS ? ecdsaTwin(lowS) : lowS;
        const mayAccept =
          !c.highS &&
          claims.sub === user.id &&
          claims.sid === user.sessionId &&
          (claims.role === 'user' || claims.role === 'admin') &&
          typeof claims.jti === 'string' &&
          typeof claims.exp === 'number' &&
          claims.exp > now() &&
          claims.iss === ISSUER &&
          (claims.aud === AUDIENCE || (Array.isArray(claims.aud) && claims.aud.includes(AUDIENCE)));
        return { kind: `real key, claims ${JSON.stringify({ ...c, pad: undefined }).slice(0, 300)}`, token, mayAccept };
      });
  }

  const scheme = fc.constantFrom('Bearer ', 'bearer ', 'BEARER ', 'Bearer  ', 'Bearer\t', 'Basic ', 'Token ', '', 'Bearer');

  it('a protected route accepts only a token auth-service would have issued for the live session', async () => {
    const candidate = fc.oneof(
      { weight: 3, arbitrary: mutated() },
      { weight: 3, arbitrary: forgedHeader() },
      { weight: 1, arbitrary: resigned() },
      { weight: 3, arbitrary: realKeyClaims() },
      { weight: 1, arbitrary: hostileString(200).map((t) => ({ kind: 'any string', token: t, mayAccept: false })) },
    );
    await fc.assert(
      fc.asyncProperty(candidate, scheme, fc.boolean(), async ({ kind, token, mayAccept }, prefix, direct) => {
        // CR and LF would end the header line: they are dropped, and what is sent is what is judged.
        const sent = token.replace(/[\r\n]/g, '');
        const authorization = Buffer.from(`${prefix}${sent}`, 'utf8');
        const acceptable = mayAccept || sent === user.accessToken;
        const bearer = /^bearer[ \t]+/i.test(prefix);
        const res = direct
          ? await getWith(system.profileUrl, '/profile', authorization)
          : await getWith(system.gatewayUrl, '/api/me', authorization);
        const what = `${direct ? 'profile-service /profile' : 'gateway /api/me'} with ${kind} (${JSON.stringify(prefix)})`;
        expectSafe(res, what);
        // Node's parser refuses a header too large (431) or with control characters (400) before any code runs.
        // eslint-disable-next-line no-control-regex -- control characters are exactly what this matches
        if (res.status === 431 || (res.status === 400 && /[\x00-\x08\x0a-\x1f\x7f]/.test(authorization.toString('latin1')))) return;
        const expected = acceptable && bearer ? 200 : 401;
        expect({ what, status: res.status }).toEqual({ what, status: expected });
      }),
      fuzzParameters(1000),
    );
  });

  it('refresh accepts only the current refresh token of a live session; nothing else disturbs it', async () => {
    const owner = await registerAndLogin(system.gatewayUrl, { userAgent: 'fuzz-refresh/1.0' });
    const [ownerId, ownerSession] = owner.refreshToken.split('.');
    const secret = system.auth.get<AuthServiceConfig>(AUTH_SERVICE_CONFIG).secrets.refreshToken;
    const authentic = new RefreshTokenCodec(secret);
    const current = owner.refreshToken;

    const candidate = fc.oneof(
      fc.tuple(fc.nat(), base64urlChar).map(([n, c]) => {
        const at = n % current.length;
        return current.slice(0, at) + c + current.slice(at + 1);
      }),
      fc.nat().map((n) => current.slice(0, n % current.length)),
      fc.constantFrom('upper', 'padded', 'spaced', 'gen+1', 'gen-1-forged-mac', 'no-mac', 'plus').map((how) => {
        const [u, s, g, mac] = current.split('.');
        const shapes: Record<string, string> = {
          upper: current.toUpperCase(),
          padded: `${current}=`,
          spaced: ` ${current} `,
          'gen+1': `${u}.${s}.${Number(g) + 1}.${mac}`,
          'gen-1-forged-mac': `${u}.${s}.${Number(g) - 1}.${mac}`,
          'no-mac': `${u}.${s}.${g}`,
          plus: `${u}.${s}.+${g}.${mac}`,
        };
        return shapes[how];
      }),
      // Authentic MACs (made with the server secret) for sessions that do not exist, or for a
      // generation of the live session that was never issued: refused, and the session lives on.
      fc
        .record({
          user: fc.oneof(fc.uuid(), fc.constant(ownerId)),
          session: fc.oneof(fc.stringMatching(/^[A-Za-z0-9_-]{22}$/), fc.constant(ownerSession)),
          ahead: fc.integer({ min: 1, max: 999_999_999 }),
        })
        .map(({ user: u, session: s, ahead }) =>
          authentic.encode({
            userId: u,
            sessionId: s,
            generation: u === ownerId && s === ownerSession ? Math.min(ahead, 999_999_999) : ahead - 1,
          }),
        ),
      hostileString(300),
    );
    const value = fc.oneof({ weight: 5, arbitrary: candidate }, { weight: 1, arbitrary: hostileJsonValue() });

    await fc.assert(
      fc.asyncProperty(value, async (refreshToken) => {
        fc.pre(refreshToken !== current);
        const res = await rawRequest(system.gatewayUrl, {
          method: 'POST',
          path: '/api/auth/refresh',
          headers: [
            ['Content-Type', 'application/json'],
            ['User-Agent', 'fuzz-refresh/1.0'],
          ],
          body: Buffer.from(JSON.stringify({ refreshToken }) ?? '{}'),
        });
        const what = `refresh with ${JSON.stringify(refreshToken)?.slice(0, 200)}`;
        expectSafe(res, what);
        expect({ what, status: res.status === 400 ? 401 : res.status }).toEqual({ what, status: 401 });
      }),
      fuzzParameters(600),
    );

    // None of the above ended or advanced the session: its current token still rotates.
    const rotated = await rawRequest(system.gatewayUrl, {
      method: 'POST',
      path: '/api/auth/refresh',
      headers: [
        ['Content-Type', 'application/json'],
        ['User-Agent', 'fuzz-refresh/1.0'],
      ],
      body: Buffer.from(JSON.stringify({ refreshToken: current })),
    });
    expect(rotated.status).toBe(200);
  });

  describe('regressions found by fuzzing (fixed; kept so they stay fixed)', () => {
    it.each([
      [
        'truncated inside the payload',
        () => user.accessToken.split('.')[0] + '.' + user.accessToken.split('.')[1].slice(0, 10) + '.' + user.accessToken.split('.')[2],
      ],
      [
        'a payload that is not JSON',
        () => `${b64({ alg: 'ES256', typ: 'JWT', kid: keys.kid })}.${b64('not json')}.${user.accessToken.split('.')[2]}`,
      ],
    ])('regression: an access token %s (header typ "JWT") is a 401, not a 500', async (_name, make) => {
      // libs/auth/src/jwt.strategy.ts secretOrKeyProvider: jsonwebtoken decode() → jws.decode() calls
      // JSON.parse on the payload when typ is "JWT" and throws; the throw escapes passport as a 500.
      const token = make();
      const viaGateway = await getWith(system.gatewayUrl, '/api/me', `Bearer ${token}`);
      const direct = await getWith(system.profileUrl, '/profile', `Bearer ${token}`);
      expect([viaGateway.status, direct.status]).toEqual([401, 401]);
    });
  });

  it('login still works for the suite user (control: the system under test is healthy)', async () => {
    await expect(login(system.gatewayUrl, user.email, user.password)).resolves.toMatchObject({ accessToken: expect.any(String) });
  });
});
