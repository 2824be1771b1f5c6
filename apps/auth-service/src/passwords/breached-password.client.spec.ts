import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';

import { freePort, startBreachedPasswordsStub, type BreachedPasswordsStub } from '@nest-hardening/testing';

import { BreachedPasswordClient } from './breached-password.client';

describe('BreachedPasswordClient', () => {
  const BREACHED = 'tr0ub4dor and 3 horses';
  let stub: BreachedPasswordsStub;

  beforeAll(async () => {
    stub = await startBreachedPasswordsStub([BREACHED]);
  });
  afterAll(() => stub.close());

  it('finds a breached password, and sends only the first five hex digits of its SHA-1', async () => {
    const client = new BreachedPasswordClient(`${stub.url}/`, 2000);
    expect(await client.check(BREACHED)).toEqual({ status: 'breached' });
    const sha1 = createHash('sha1').update(BREACHED).digest('hex').toUpperCase();
    expect(stub.requests.at(-1)).toBe(`/range/${sha1.slice(0, 5)}`);
  });

  it('passes a password that is not in the answer, ignoring padding lines with count 0', async () => {
    const client = new BreachedPasswordClient(stub.url, 2000);
    expect(await client.check('a password nobody has leaked')).toEqual({ status: 'not_breached' });
  });

  it('reports the API unavailable when nothing listens, answers an error, or answers too late', async () => {
    const closedPort = await freePort();
    expect(await new BreachedPasswordClient(`http://127.0.0.1:${closedPort}`, 2000).check(BREACHED)).toEqual({
      status: 'unavailable',
      reason: 'unreachable',
    });
    expect(await new BreachedPasswordClient(`${stub.url}/wrong-base`, 2000).check(BREACHED)).toEqual({
      status: 'unavailable',
      reason: 'status_404',
    });

    const silent: Server = createServer(() => undefined); // accepts and never answers
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      expect(await new BreachedPasswordClient(`http://127.0.0.1:${port}`, 200).check(BREACHED)).toEqual({
        status: 'unavailable',
        reason: 'timeout',
      });
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
