import fc from 'fast-check';
import { ExtractJwt } from 'passport-jwt';

import { InvalidAccessTokenError } from './auth.errors';
import type { AuthModuleOptions } from './auth.module-definition';
import { JwtStrategy } from './jwt.strategy';
import { PublicKeyStore } from './public-key-store';
import type { SessionValidator } from './session-validator.port';

const options: AuthModuleOptions = { issuer: 'issuer', audience: 'audience', publicKeys: () => [] };

/**
 * What the strategy does with an `Authorization` header, through passport's own entry point:
 * `no token` when nothing was extracted, `refused` when a token was extracted and then refused.
 */
function judge(authorization: string | undefined): Promise<'no token' | 'refused'> {
  const strategy = new JwtStrategy(options, new PublicKeyStore(options), { isActive: () => true } satisfies SessionValidator);
  return new Promise((resolve, reject) => {
    const target = strategy as unknown as Record<string, unknown> & { authenticate(req: unknown, options: object): void };
    target.fail = (info: unknown) =>
      info instanceof InvalidAccessTokenError
        ? resolve('refused')
        : resolve(info instanceof Error && info.message === 'No auth token' ? 'no token' : 'refused');
    target.error = reject;
    target.success = () => reject(new Error('accepted'));
    target.authenticate({ headers: authorization === undefined ? {} : { authorization } }, {});
  });
}

describe('JwtStrategy: reading the Authorization header', () => {
  it('reads a 64 kB header without white space as fast as one with a space (passport-jwt backtracks quadratically: seconds)', async () => {
    // Compared with a header of the same length that passport-jwt's pattern matches at once, in the
    // same run: a shared machine's speed varies, the ratio between linear and quadratic does not.
    const timed = async (authorization: string) => {
      const started = performance.now();
      for (let i = 0; i < 5; i++) await judge(authorization);
      return performance.now() - started;
    };
    const linear = await timed(`Bearer ${'a'.repeat(64_000)}`);
    const hostile = await timed('a'.repeat(64_000));
    await expect(judge('a'.repeat(64_000))).resolves.toBe('no token');
    await expect(judge(`${'a'.repeat(64_000)} `)).resolves.toBe('no token');
    expect(hostile).toBeLessThan(10 * linear + 50);
  });

  it('extracts a token from exactly the headers passport-jwt takes one from', async () => {
    const stock = ExtractJwt.fromAuthHeaderAsBearerToken();
    const header = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .tuple(
          fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'Bearerx', '', ' Bearer'),
          fc.constantFrom(' ', '  ', '\t', '', '\u00a0', ' \t '),
          fc.string({ maxLength: 20 }),
        )
        .map((parts) => parts.join('')),
    );
    await fc.assert(
      fc.asyncProperty(header, async (authorization) => {
        const expected = stock({ headers: { authorization } }) ? 'refused' : 'no token';
        expect({ authorization, judged: await judge(authorization) }).toEqual({ authorization, judged: expected });
      }),
      { numRuns: 300, seed: 20_261_207 },
    );
  });
});
