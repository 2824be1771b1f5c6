import { generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';

import { sign } from 'jsonwebtoken';
import request from 'supertest';

import { guardedProbeModule } from '../test/support/guarded-probe-app';
import type { AuthModuleOptions } from './auth.module-definition';
import { withLowS } from './es256-signature';

const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeys = (): JsonWebKey[] => [{ ...signing.publicKey.export({ format: 'jwk' }), kid: 'main', use: 'sig' }];

/** A token signed by the trusted key, with the claims given (by default, for issuer `iss` and audience `aud`). */
function token(claims: { iss?: string; aud?: string; exp?: number } = {}): string {
  const now = Math.floor(Date.now() / 1000);
  const payload = { sub: randomUUID(), sid: 'sid-1', role: 'user', jti: randomUUID(), iat: now, exp: now + 900, iss: 'iss', aud: 'aud' };
  return withLowS(sign({ ...payload, ...claims }, signing.privateKey, { algorithm: 'ES256', keyid: 'main' }));
}

/**
 * Why the app refused to start, or, when it started, the status its guard gave `presented` (after
 * closing it): what an adopter's app does with that configuration.
 */
async function outcome(options: Partial<AuthModuleOptions>, presented = token()): Promise<{ error: string } | { status: number }> {
  let app;
  try {
    app = (await guardedProbeModule(publicKeys, options)).createNestApplication({ logger: false });
    await app.init();
  } catch (error) {
    return { error: (error as Error).message };
  }
  try {
    return { status: (await request(app.getHttpServer()).get('/probe').set('authorization', `Bearer ${presented}`)).status };
  } finally {
    await app.close();
  }
}

/**
 * `AuthModule.forRoot({ issuer: process.env.JWT_ISSUER!, ... })` with the variable unset, or a number
 * read as `Number(process.env.X)`: each used to start a guard that checks less than it was told to.
 */
describe('AuthModule options an adopter gets wrong', () => {
  // jsonwebtoken checks `iss` and `aud` only when they are truthy: an unset or empty one accepted
  // every token the trusted keys signed, also those minted for another service or by another issuer.
  it.each<[string, Partial<AuthModuleOptions>, string]>([
    ['an unset issuer', { issuer: undefined }, token({ iss: 'someone-else' })],
    ['an empty issuer', { issuer: '' }, token({ iss: 'someone-else' })],
    ['an unset audience', { audience: undefined }, token({ aud: 'another-api' })],
    ['an empty audience', { audience: '' }, token({ aud: 'another-api' })],
  ])('refuses to start with %s instead of accepting tokens meant for someone else', async (_what, change, foreign) => {
    const option = Object.keys(change)[0];
    expect(await outcome(change, foreign)).toEqual({ error: expect.stringContaining(`AuthModule: ${option} must be a non-empty string`) });
  });

  it('refuses to start with a clock tolerance that would let expired tokens through', async () => {
    const expired = token({ exp: Math.floor(Date.now() / 1000) - 3600 });
    expect(await outcome({ clockToleranceSeconds: Infinity }, expired)).toEqual({
      error: expect.stringContaining('AuthModule: clockToleranceSeconds must be a whole number from 0 to 300 (got Infinity)'),
    });
    expect(await outcome({ clockToleranceSeconds: 30 * 24 * 3600 }, expired)).toEqual({
      error: expect.stringContaining('AuthModule: clockToleranceSeconds must be'),
    });
  });

  // A NaN cache size never evicts (memory grows with every token seen); with a NaN max age or
  // cooldown the set is never read again, so a withdrawn key stays trusted.
  it.each<[string, keyof AuthModuleOptions, unknown]>([
    ['NaN', 'verifiedTokenCacheSize', NaN],
    ['negative', 'verifiedTokenCacheSize', -1],
    ['negative', 'jwksRefetchCooldownMs', -1],
    ['NaN', 'jwksRefetchCooldownMs', NaN],
    ['NaN', 'jwksMaxAgeMs', NaN],
    ['a fraction', 'jwksMaxAgeMs', 0.5],
    ['a string', 'clockToleranceSeconds', '5'],
  ])('refuses to start with %s as %s, naming the option', async (_what, option, value) => {
    expect(await outcome({ [option]: value })).toEqual({ error: expect.stringContaining(`AuthModule: ${option} must be a whole number`) });
  });

  it('refuses to start without a source of keys, with two, or with a JWKS url it cannot fetch, rather than refuse every token', async () => {
    expect(await outcome({ publicKeys: undefined })).toEqual({
      error: expect.stringContaining('AuthModule: exactly one of jwksUrl and publicKeys must be set'),
    });
    // With both, the url would be ignored without a word.
    expect(await outcome({ jwksUrl: 'http://127.0.0.1:1/.well-known/jwks.json' })).toEqual({
      error: expect.stringContaining('AuthModule: exactly one of jwksUrl and publicKeys must be set'),
    });
    expect(await outcome({ publicKeys: undefined, jwksUrl: 'auth-service/.well-known/jwks.json' })).toEqual({
      error: expect.stringContaining('AuthModule: jwksUrl must be an http:// or https:// url'),
    });
  });

  it('starts with the documented settings and accepts only its own tokens', async () => {
    const documented = { clockToleranceSeconds: 5, verifiedTokenCacheSize: 0, jwksRefetchCooldownMs: 5000, jwksMaxAgeMs: 60_000 };
    expect(await outcome(documented)).toEqual({ status: 200 });
    expect(await outcome(documented, token({ aud: 'another-api' }))).toEqual({ status: 401 });
  });
});
