import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';

import { Global, Module, type INestApplication } from '@nestjs/common';
import { PassportModule } from '@nestjs/passport';
import request from 'supertest';

import { guardedProbeModule, signedToken } from '../test/support/guarded-probe-app';

const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeys = (): JsonWebKey[] => [{ ...signing.publicKey.export({ format: 'jwk' }), kid: 'main', use: 'sig' }];

const freshToken = () => signedToken(signing.privateKey, 'main');

/** An adopter that also uses passport for strategies of its own, with its options for every module. */
@Global()
@Module({ imports: [PassportModule.register({ defaultStrategy: 'local', session: false })], exports: [PassportModule] })
class AppPassport {}

describe('AccessTokenGuard in an app that registers PassportModule options of its own', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await guardedProbeModule(publicKeys, {}, { imports: [AppPassport] });
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
