import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';

import { Injectable, type BeforeApplicationShutdown, type INestApplication } from '@nestjs/common';

import { guardedProbeModule, signedToken } from '../test/support/guarded-probe-app';

const signing = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const publicKeys = (): JsonWebKey[] => [{ ...signing.publicKey.export({ format: 'jwk' }), kid: 'main', use: 'sig' }];

const freshToken = () => signedToken(signing.privateKey, 'main');

/**
 * Sends requests while the app is closing, after every module's `onModuleDestroy` and before the
 * HTTP server closes: what a client on an open connection meets during a rolling deployment.
 */
@Injectable()
class RequestsDuringShutdown implements BeforeApplicationShutdown {
  url = '';
  statuses: number[] = [];

  async beforeApplicationShutdown(): Promise<void> {
    const withToken = await fetch(`${this.url}/probe`, { headers: { authorization: `Bearer ${freshToken()}` } });
    const withoutToken = await fetch(`${this.url}/probe`);
    this.statuses = [withToken.status, withoutToken.status];
  }
}

describe('AccessTokenGuard while its app is closing', () => {
  let app: INestApplication | undefined;

  afterEach(() => app?.close().catch(() => undefined));

  it('verifies the tokens of requests it still serves while closing: a new token is accepted and a missing one is 401, never 500', async () => {
    const moduleRef = await guardedProbeModule(publicKeys, {}, { providers: [RequestsDuringShutdown] });
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const probe = app.get(RequestsDuringShutdown);
    probe.url = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;

    await app.close();
    app = undefined;

    expect(probe.statuses).toEqual([200, 401]);
  });
});
