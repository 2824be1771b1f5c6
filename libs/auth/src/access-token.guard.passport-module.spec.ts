import { generateKeyPairSync, randomUUID, type JsonWebKey } from 'node:crypto';

import { Controller, Get, Global, Module, type INestApplication } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { PassportModule } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import { sign } from 'jsonwebtoken';
import request from 'supertest';

import { AccessTokenGuard } from './access-token.guard';
import { AuthModule } from './auth.module';
import { withLowS } from './es256-signature';
import { SessionValidator } from './session-validator.port';

const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeys = (): JsonWebKey[] => [{ ...signing.publicKey.export({ format: 'jwk' }), kid: 'main', use: 'sig' }];

const freshToken = () =>
  withLowS(
    sign({ sub: randomUUID(), sid: 'sid-1', role: 'user', jti: randomUUID() }, signing.privateKey, {
      algorithm: 'ES256',
      keyid: 'main',
      issuer: 'iss',
      audience: 'aud',
      expiresIn: 900,
    }),
  );

@Controller()
class ProbeController {
  @Get('probe')
  probe(): string {
    return 'ok';
  }
}

@Module({ providers: [{ provide: SessionValidator, useValue: { isActive: () => true } }], exports: [SessionValidator] })
class LiveSessions {}

/** An adopter that also uses passport for strategies of its own, with its options for every module. */
@Global()
@Module({ imports: [PassportModule.register({ defaultStrategy: 'local', session: false })], exports: [PassportModule] })
class AppPassport {}

describe('AccessTokenGuard in an app that registers PassportModule options of its own', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [AppPassport, { module: LiveSessions, global: true }, AuthModule.forRoot({ issuer: 'iss', audience: 'aud', publicKeys })],
      controllers: [ProbeController],
      providers: [{ provide: APP_GUARD, useExisting: AccessTokenGuard }],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
  });

  afterAll(() => app?.close());

  it('verifies with its own strategy: a valid token is accepted and a missing or forged one is 401, never 500', async () => {
    const status = async (authorization?: string) => {
      const req = request(app.getHttpServer()).get('/probe');
      return (await (authorization ? req.set('authorization', authorization) : req)).status;
    };
    const token = freshToken();
    expect(await status(`Bearer ${token}`)).toBe(200);
    expect(await status()).toBe(401);
    expect(await status(`Bearer ${token.slice(0, -4)}AAAA`)).toBe(401);
  });
});
