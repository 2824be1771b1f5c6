import { Controller, Get, Req } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import request from 'supertest';

import { clientIp } from './client-ip';
import { GATEWAY_SIGNATURE_HEADER, signGatewayRequest } from './gateway-signature';
import { trustGatewaySignatures, type GatewayTrustOptions } from './gateway-trust';

const SECRET = 'a-gateway-secret-of-at-least-32-characters';

@Controller()
class WhoController {
  @Get('who')
  who(@Req() req: Request): string {
    return clientIp(req);
  }
}

/**
 * What a service installed with `options` answers to a client that signs its own request with
 * `forgedWith` (at `signedAt`) to pass for 203.0.113.7, or why it refused to install them.
 */
async function outcome(
  options: Partial<GatewayTrustOptions>,
  forgedWith: string,
  signedAt = Date.now(),
): Promise<{ error: string } | { status: number; clientIp: string }> {
  const app = (await Test.createTestingModule({ controllers: [WhoController] }).compile()).createNestApplication({ logger: false });
  try {
    try {
      trustGatewaySignatures(app, { secret: SECRET, maxAgeMs: 30_000, ...options });
    } catch (error) {
      return { error: (error as Error).message };
    }
    await app.init();
    const fields = { method: 'GET', path: '/who', forwardedFor: '203.0.113.7', forwardedProto: 'https' };
    const response = await request(app.getHttpServer())
      .get('/who')
      .set('x-forwarded-for', fields.forwardedFor)
      .set('x-forwarded-proto', fields.forwardedProto)
      .set(GATEWAY_SIGNATURE_HEADER, signGatewayRequest(forgedWith, fields, signedAt));
    return { status: response.status, clientIp: response.text };
  } finally {
    await app.close();
  }
}

/**
 * `trustGatewaySignatures(app, { secret: process.env.GATEWAY_SECRET!, maxAgeMs: Number(process.env.MAX_AGE) })`
 * with the variables unset or mistyped: each used to install a check that anyone could pass, or that
 * answered 500, and the service then charged rate limits and lockouts to an address the client chose.
 */
describe('trustGatewaySignatures options an adopter gets wrong', () => {
  it('refuses an empty or short secret, with which anyone signs the address they want to be judged by', async () => {
    expect(await outcome({ secret: '' }, '')).toEqual({ error: expect.stringContaining('secret must be at least 32 characters') });
    expect(await outcome({ secret: 'gateway' }, 'gateway')).toEqual({
      error: expect.stringContaining('secret must be at least 32 characters'),
    });
  });

  it('refuses an unset secret, which answered 500 to every request carrying a signature', async () => {
    expect(await outcome({ secret: undefined }, SECRET)).toEqual({
      error: expect.stringContaining('secret must be at least 32 characters'),
    });
  });

  it('refuses a previous secret equal to the secret or too short', async () => {
    expect(await outcome({ previousSecret: SECRET }, SECRET)).toEqual({
      error: expect.stringContaining('previousSecret must differ from secret'),
    });
    expect(await outcome({ previousSecret: 'old' }, 'old')).toEqual({
      error: expect.stringContaining('previousSecret must be at least 32 characters'),
    });
  });

  it.each([NaN, Infinity, 0, -1, 30.5, 3_600_000])('refuses a maxAgeMs of %s: the replay window must be bounded', async (maxAgeMs) => {
    const anHourAgo = Date.now() - 3_600_000;
    expect(await outcome({ maxAgeMs }, SECRET, anHourAgo)).toEqual({
      error: expect.stringContaining('maxAgeMs must be a whole number from 1000 to 300000'),
    });
  });

  it('installs with a secret of its own and trusts only what it signed', async () => {
    expect(await outcome({ previousSecret: `previous-${SECRET}` }, SECRET)).toEqual({ status: 200, clientIp: '203.0.113.7' });
    expect(await outcome({}, `another-${SECRET}`)).toEqual({ status: 200, clientIp: '127.0.0.1' });
    expect(await outcome({}, SECRET, Date.now() - 3_600_000)).toEqual({ status: 200, clientIp: '127.0.0.1' });
  });
});
