import { Test } from '@nestjs/testing';

import { SessionValidator, type AuthenticatedUser } from '@nest-hardening/auth';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix, watchMemoryStoreWarnings } from '@nest-hardening/testing';

import { SESSIONS_TEST_OPTIONS } from '../test/support/sessions-test-options';
import { RefreshRotationService } from './refresh-rotation.service';
import { SessionRevocationModule } from './session-revocation.module';
import { SessionsModule } from './sessions.module';
import { SessionsService } from './sessions.service';

const EVENTS = SecurityEventsModule.forRoot({ service: 'sessions-memory-test', pseudonymKey: 'test-key', isGlobal: true });
const client = { ip: '203.0.113.7', userAgent: 'jest-unit/1.0' };

/** An app with both sessions modules on the memory store and no RedisModule, as an adopter's unit test would build it. */
const compileMemoryApp = () =>
  Test.createTestingModule({
    imports: [
      EVENTS,
      SessionsModule.forRoot({ ...SESSIONS_TEST_OPTIONS, store: 'memory' }),
      SessionRevocationModule.forRoot({ store: 'memory', cacheTtlMs: 500, isGlobal: true }),
    ],
  }).compile();

describe("Sessions modules with store: 'memory' (adopters' unit tests, no Redis)", () => {
  const memoryWarnings = watchMemoryStoreWarnings();

  it('issues, rotates and revokes sessions, and the access-token check of the same app sees it at once', async () => {
    process.env.NODE_ENV = 'test';
    const app = await compileMemoryApp();
    await app.init();
    try {
      const rotation = app.get(RefreshRotationService);
      const validator = app.get<SessionValidator>(SessionValidator);
      const userId = '00000000-0000-4000-8000-000000000001';
      const issued = await rotation.issue(userId, 'user', client, 0);
      const token: AuthenticatedUser = {
        id: userId,
        sessionId: issued.sessionId,
        jti: 'j1',
        role: 'user',
        exp: Math.floor(Date.now() / 1000) + 600,
      };
      expect(await validator.isActive(token)).toBe(true);
      expect(validator.isActive(token)).toBe(true); // cached

      const refreshed = await rotation.refresh(issued.refreshToken, client);
      expect(refreshed).toMatchObject({ outcome: 'rotated', sessionId: issued.sessionId });
      // Presenting the retired token again ends the whole session, and the cached answer with it.
      await expect(rotation.refresh(issued.refreshToken, client)).rejects.toThrow('Invalid refresh token');
      expect(await validator.isActive(token)).toBe(false);

      const second = await rotation.issue(userId, 'user', client, 0);
      const secondToken = { ...token, sessionId: second.sessionId, jti: 'j2' };
      expect(await validator.isActive(secondToken)).toBe(true);
      expect((await app.get(SessionsService).list(userId)).map((s) => s.id)).toEqual([second.sessionId]);
      await app.get(SessionsService).revoke(userId, second.sessionId);
      expect(await validator.isActive(secondToken)).toBe(false);
    } finally {
      await app.close();
    }
    expect(memoryWarnings()).toEqual([]);
  });

  it('two apps do not share sessions', async () => {
    const [a, b] = [await compileMemoryApp(), await compileMemoryApp()];
    const issued = await a.get(RefreshRotationService).issue('00000000-0000-4000-8000-000000000002', 'user', client, 0);
    await expect(b.get(RefreshRotationService).refresh(issued.refreshToken, client)).rejects.toThrow('Invalid refresh token');
    expect((await a.get(RefreshRotationService).refresh(issued.refreshToken, client)).outcome).toBe('rotated');
    await Promise.all([a.close(), b.close()]);
  });

  it('warns at start-up when NODE_ENV=production, once per module', async () => {
    process.env.NODE_ENV = 'production';
    const app = await compileMemoryApp();
    await app.close();
    expect(memoryWarnings().sort()).toEqual([
      expect.stringMatching(/^SessionRevocationModule uses/),
      expect.stringMatching(/^SessionsModule uses/),
    ]);
  });

  it("without store: 'memory' and without RedisModule, start-up fails with a message saying what is missing", async () => {
    await expect(Test.createTestingModule({ imports: [EVENTS, SessionsModule.forRoot(SESSIONS_TEST_OPTIONS)] }).compile()).rejects.toThrow(
      "SessionsModule needs the global RedisModule (or store: 'memory' in unit tests)",
    );
    await expect(Test.createTestingModule({ imports: [SessionRevocationModule.forRoot({ cacheTtlMs: 500 })] }).compile()).rejects.toThrow(
      "SessionRevocationModule needs the global RedisModule (or store: 'memory' in unit tests)",
    );
  });

  it('refuses an unknown store at start-up', async () => {
    const options = { cacheTtlMs: 500, store: 'postgres' } as unknown as { cacheTtlMs: number };
    await expect(Test.createTestingModule({ imports: [SessionRevocationModule.forRoot(options)] }).compile()).rejects.toThrow(
      "SessionRevocationModule: store must be 'redis' or 'memory'",
    );
  });
});

/** The services over either store, as an app wires them (the Redis variant on real Redis, through RedisModule). */
describe.each(['redis', 'memory'] as const)('SessionsModule and SessionRevocationModule over the %s store', (store) => {
  const keyPrefix = uniqueKeyPrefix('sessions-modules');
  afterAll(() => deleteKeysWithPrefix(keyPrefix));

  const compile = () =>
    Test.createTestingModule({
      imports: [
        ...(store === 'redis' ? [RedisModule.forRoot({ url: TEST_REDIS_URL, keyPrefix, commandTimeoutMs: 2000, isGlobal: true })] : []),
        EVENTS,
        SessionsModule.forRoot({ ...SESSIONS_TEST_OPTIONS, maxSessionsPerUser: 2, store }),
        // No cache: each check asks the store, so the answers below do not wait for an announcement.
        SessionRevocationModule.forRoot({ store, cacheTtlMs: 0, isGlobal: true }),
      ],
    }).compile();

  it('login, refresh, reuse, the session cap, password-change checks and logout, as the access-token check sees them', async () => {
    const app = await compile();
    await app.init();
    try {
      const rotation = app.get(RefreshRotationService);
      const sessions = app.get(SessionsService);
      const validator = app.get<SessionValidator>(SessionValidator);
      const userId = '00000000-0000-4000-8000-000000000003';
      const access = (sessionId: string, jti: string): AuthenticatedUser => ({
        id: userId,
        sessionId,
        jti,
        role: 'user',
        exp: Math.floor(Date.now() / 1000) + 600,
      });

      const first = await rotation.issue(userId, 'user', client, 0);
      expect(await validator.isActive(access(first.sessionId, 'j1'))).toBe(true);
      const next = await rotation.refresh(first.refreshToken, client);
      expect(next.refreshToken).not.toBe(first.refreshToken);
      await expect(rotation.refresh(first.refreshToken, client)).rejects.toThrow('Invalid refresh token');
      await expect(rotation.refresh(next.refreshToken, client)).rejects.toThrow('Invalid refresh token');
      expect(await validator.isActive(access(first.sessionId, 'j1'))).toBe(false);

      // Distinct milliseconds, so the order of expiries (the cap ends the nearest first) is unambiguous.
      const issueLater = async () => {
        await new Promise((r) => setTimeout(r, 20));
        return rotation.issue(userId, 'user', client, 0);
      };
      const [a, b, c] = [await issueLater(), await issueLater(), await issueLater()];
      expect((await sessions.list(userId)).map((s) => s.id).sort()).toEqual([b.sessionId, c.sessionId].sort());
      expect(await validator.isActive(access(a.sessionId, 'ja'))).toBe(false);

      expect(await sessions.endForAuthorizationChange(userId, 1, { reason: 'password_change', keepSessionId: c.sessionId })).toBe(1);
      await expect(rotation.issue(userId, 'user', client, 0)).rejects.toThrow('Invalid email or password');
      expect(await validator.isActive(access(b.sessionId, 'jb'))).toBe(false);

      await sessions.logout(access(c.sessionId, 'jc'));
      expect(await validator.isActive(access(c.sessionId, 'jc'))).toBe(false);
      await expect(sessions.logout(access(c.sessionId, 'jc'))).rejects.toThrow();
      expect(await sessions.list(userId)).toEqual([]);
    } finally {
      await app.close();
    }
  });
});
