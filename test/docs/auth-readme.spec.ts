import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { sign } from 'jsonwebtoken';
import request from 'supertest';

import { AccessTokenGuard, AuthModule, Public, Roles, RolesGuard, withLowS, type Role } from '@nest-hardening/auth';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEventsModule } from '@nest-hardening/security-events';
import { RefreshRotationService, SessionRevocationModule, SessionsModule } from '@nest-hardening/sessions';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

/**
 * The module libs/auth/README.md tells an adopter to write, against real Redis and a JWKS served
 * over HTTP: a route marked `@Roles('admin')` must refuse a user. `@Roles()` is enforced by
 * `RolesGuard`, not by `AccessTokenGuard`, so the README registers both.
 */
describe('libs/auth/README.md', () => {
  const keyPrefix = uniqueKeyPrefix('auth-readme');
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = 'readme-key';
  let jwks: Server;
  let app: INestApplication;

  @Controller()
  class ExampleController {
    @Public() @Get('status') status() {
      return 'ok';
    }

    @Roles('admin') @Get('admin') admin() {
      return 'admin only';
    }
  }

  beforeAll(async () => {
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' }] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const jwksUrl = `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/.well-known/jwks.json`;

    // As in the README, with this test's Redis prefix and JWKS; SessionsModule only to start sessions.
    @Module({
      imports: [
        RedisModule.forRoot({ url: TEST_REDIS_URL, keyPrefix, commandTimeoutMs: 500, isGlobal: true }),
        AuthModule.forRoot({ issuer: 'auth-service', audience: 'myapp', jwksUrl }),
        SecurityEventsModule.forRoot({ service: 'myapp', pseudonymKey: 'auth-readme-test-pseudonym-key-0001' }),
        SessionRevocationModule.forRoot({ cacheTtlMs: 500, isGlobal: true }),
        SessionsModule.forRoot({
          refreshTokenSecret: 'auth-readme-test-refresh-token-secret',
          fingerprintSecret: 'auth-readme-test-fingerprint-secret-01',
          idleTtlMs: 60_000,
          absoluteTtlMs: 120_000,
          reuseGraceMs: 0,
          maxSessionsPerUser: 10,
          fingerprint: { userAgent: 'off', ip: 'off', ipv4PrefixBits: 24, ipv6PrefixBits: 64 },
        }),
      ],
      controllers: [ExampleController],
      providers: [
        { provide: APP_GUARD, useExisting: AccessTokenGuard },
        { provide: APP_GUARD, useExisting: RolesGuard },
      ],
    })
    class AppModule {}

    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => jwks?.close(resolve));
    await deleteKeysWithPrefix(keyPrefix);
  });

  /** An access token of a live session, as auth-service issues one. */
  async function accessToken(role: Role): Promise<string> {
    const userId = randomUUID();
    const { sessionId } = await app.get(RefreshRotationService).issue(userId, role, { ip: '127.0.0.1', userAgent: 'auth-readme-test' }, 0);
    const token = sign({ sid: sessionId, role }, privateKey, {
      algorithm: 'ES256',
      keyid: kid,
      subject: userId,
      jwtid: randomUUID(),
      issuer: 'auth-service',
      audience: 'myapp',
      expiresIn: 60,
    });
    return withLowS(token);
  }

  it('refuses a user on an @Roles("admin") route and admits an admin', async () => {
    const server = app.getHttpServer();
    expect((await request(server).get('/status')).status).toBe(200);
    expect((await request(server).get('/admin')).status).toBe(401);
    const user = await request(server)
      .get('/admin')
      .set('authorization', `Bearer ${await accessToken('user')}`);
    expect(user.status).toBe(403);
    const admin = await request(server)
      .get('/admin')
      .set('authorization', `Bearer ${await accessToken('admin')}`);
    expect(admin.status).toBe(200);
  });
});
