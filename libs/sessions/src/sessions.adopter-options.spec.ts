import { createHmac } from 'node:crypto';

import { Test } from '@nestjs/testing';

import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

import { SESSIONS_TEST_OPTIONS } from '../test/support/sessions-test-options';
import { RefreshRotationService } from './refresh-rotation.service';
import { SessionRevocationModule } from './session-revocation.module';
import type { SessionRevocationModuleOptions } from './session-revocation.module-definition';
import { SessionsModule } from './sessions.module';
import type { SessionsModuleOptions } from './sessions.module-definition';
import { SessionsService } from './sessions.service';

const client = { ip: '203.0.113.7', userAgent: 'jest-unit/1.0' };

/** The app of libs/sessions/README.md, on real Redis. */
describe('SessionsModule as its README wires it', () => {
  const keyPrefix = uniqueKeyPrefix('sessions-adopter');
  afterAll(() => deleteKeysWithPrefix(keyPrefix));

  async function start(options: SessionsModuleOptions, revocation: SessionRevocationModuleOptions = { cacheTtlMs: 500 }) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RedisModule.forRoot({ url: TEST_REDIS_URL, keyPrefix, commandTimeoutMs: 1_000, isGlobal: true }),
        SecurityEventsModule.forRoot({ service: 'sessions-adopter-test', pseudonymKey: 'test-key' }),
        SessionsModule.forRoot(options),
        SessionRevocationModule.forRoot({ ...revocation, isGlobal: true }),
      ],
    }).compile();
    await moduleRef.init();
    return moduleRef;
  }

  it.each([
    { what: 'an empty refreshTokenSecret (REFRESH_TOKEN_SECRET= in a .env file)', change: { refreshTokenSecret: '' } },
    { what: 'an unset refreshTokenSecret (process.env.REFRESH_TOKEN_SECRET!)', change: { refreshTokenSecret: undefined } },
    { what: 'a refreshTokenSecret shorter than the documented 32 characters', change: { refreshTokenSecret: 'short' } },
    { what: 'an empty fingerprintSecret', change: { fingerprintSecret: '' } },
  ])('refuses to start with $what, saying which option', async ({ change }) => {
    const options = { ...SESSIONS_TEST_OPTIONS, ...change } as SessionsModuleOptions;
    const outcome = await start(options).then(
      async (app) => {
        // What an app that started anyway hands out: with an empty key, anyone who read a session id
        // (the `sid` of any access token) mints that session's refresh tokens.
        try {
          const issued = await app.get(RefreshRotationService).issue('00000000-0000-4000-8000-000000000001', 'user', client, 0);
          const [userId, sessionId] = issued.refreshToken.split('.');
          const mac = createHmac('sha256', options.refreshTokenSecret ?? '')
            .update(`rt1|${userId}|${sessionId}|0`)
            .digest('base64url');
          return { started: true, forgeable: `${userId}.${sessionId}.0.${mac}` === issued.refreshToken };
        } catch (error) {
          return { started: true, firstLogin: (error as Error).message };
        } finally {
          await app.close();
        }
      },
      (error: unknown) => ({ error: (error as Error).message }),
    );
    expect(outcome).toEqual({
      error: expect.stringMatching(/SessionsModule: (refreshTokenSecret|fingerprintSecret) must be at least 32 characters/),
    });
  });

  // Each started before: a NaN lifetime or cap never applied, and 'Strict' compared unequal to
  // 'strict' in the rotation script, so a refresh from another browser kept the session.
  it.each([
    { option: 'idleTtlMs', change: { idleTtlMs: Number(undefined) } },
    { option: 'absoluteTtlMs', change: { absoluteTtlMs: Infinity } },
    { option: 'maxSessionsPerUser', change: { maxSessionsPerUser: 0 } },
    { option: 'reuseGraceMs', change: { reuseGraceMs: 3_600_000 } },
    { option: 'fingerprint.userAgent', change: { fingerprint: { ...SESSIONS_TEST_OPTIONS.fingerprint, userAgent: 'Strict' } } },
    { option: 'fingerprint.ipv4PrefixBits', change: { fingerprint: { ...SESSIONS_TEST_OPTIONS.fingerprint, ipv4PrefixBits: 33 } } },
  ])('refuses to start with an out-of-range $option, naming it', async ({ option, change }) => {
    const options = { ...SESSIONS_TEST_OPTIONS, ...change } as SessionsModuleOptions;
    const outcome = await start(options).then(
      async (app) => {
        await app.close();
        return { started: true };
      },
      (error: unknown) => ({ error: (error as Error).message }),
    );
    expect(outcome).toEqual({ error: expect.stringContaining(`SessionsModule: ${option} must be`) });
  });

  // Each started before: a NaN cache size never evicted (the cache grew with every token seen), and a
  // NaN TTL passed the range check and turned the cache off without a word.
  it.each([
    { option: 'cacheTtlMs', change: { cacheTtlMs: Number(undefined) } },
    { option: 'cacheMaxEntries', change: { cacheTtlMs: 500, cacheMaxEntries: Number(undefined) } },
  ])('refuses to start with a revocation check whose $option is not a whole number, naming it', async ({ option, change }) => {
    const outcome = await start(SESSIONS_TEST_OPTIONS, change).then(
      async (app) => {
        await app.close();
        return { started: true };
      },
      (error: unknown) => ({ error: (error as Error).message }),
    );
    expect(outcome).toEqual({ error: expect.stringContaining(`SessionRevocationModule: ${option} must be a whole number`) });
  });

  it('refuses a user id that its refresh tokens cannot carry when the session is issued, not at the first refresh', async () => {
    const app = await start(SESSIONS_TEST_OPTIONS);
    try {
      const rotation = app.get(RefreshRotationService);
      // An adopter's integer ids: the session used to be created and the token handed out, and every
      // refresh answered 401 (the token format holds a lower-case UUID only).
      await expect(rotation.issue('42', 'user', client, 0)).rejects.toThrow(/userId must be a lower-case UUID/);
      expect(await app.get(SessionsService).list('42')).toEqual([]);
      const issued = await rotation.issue('00000000-0000-4000-8000-00000000000a', 'user', client, 0);
      expect((await rotation.refresh(issued.refreshToken, client)).outcome).toBe('rotated');
    } finally {
      await app.close();
    }
  });
});
