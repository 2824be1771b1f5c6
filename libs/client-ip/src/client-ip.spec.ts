import { Controller, Get, Req, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Request } from 'express';
import request from 'supertest';

import { clientIp, networkPrefix, normalizeIp, rateLimitIpKey } from './client-ip';
import { applyTrustedProxies } from './trusted-proxies';

@Controller()
class WhoController {
  @Get('who')
  who(@Req() req: Request): string {
    return clientIp(req);
  }
}

describe('client addresses', () => {
  it('reports IPv4-mapped IPv6 addresses as plain IPv4, in any notation', () => {
    for (const spelling of ['::ffff:203.0.113.9', '::FFFF:cb00:7109', '0:0:0:0:0:ffff:203.0.113.9', '0:0:0:0:0:ffff:cb00:7109']) {
      expect([spelling, normalizeIp(spelling), rateLimitIpKey(spelling)]).toEqual([spelling, '203.0.113.9', '203.0.113.9']);
    }
  });

  it('reports IPv4 clients a NAT46 translator writes in the NAT64 well-known prefix as plain IPv4, each apart', () => {
    for (const spelling of ['64:ff9b::203.0.113.9', '64:FF9B::cb00:7109', '64:ff9b:0:0:0:0:cb00:7109']) {
      expect([spelling, normalizeIp(spelling), rateLimitIpKey(spelling)]).toEqual([spelling, '203.0.113.9', '203.0.113.9']);
    }
    expect(rateLimitIpKey('64:ff9b::198.51.100.7')).not.toBe(rateLimitIpKey('64:ff9b::203.0.113.9'));
    // Outside the /96 it is an IPv6 address like any other.
    expect(normalizeIp('64:ff9b:1::cb00:7109')).toBe('64:ff9b:1::cb00:7109');
  });

  it('gives every IPv6 address its one RFC 5952 spelling', () => {
    const cases = [
      ['2001:DB8::1', '2001:db8::1'],
      ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
      ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
      ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'],
      ['0:0:0:0:0:0:0:1', '::1'],
      ['::', '::'],
      ['fe80:0:0:0:0:0:0:0', 'fe80::'],
      ['::ffff:0:0', '0.0.0.0'],
      ['2001:db8:0:0:0:0:1.2.3.4', '2001:db8::102:304'],
    ];
    for (const [spelling, canonical] of cases) expect([spelling, normalizeIp(spelling)]).toEqual([spelling, canonical]);
  });

  it('reduces IPv4 addresses to their network prefix', () => {
    expect(networkPrefix('203.0.113.200', 24, 64)).toBe('203.0.113.0/24');
    expect(networkPrefix('203.0.113.200', 16, 64)).toBe('203.0.0.0/16');
    expect(networkPrefix('203.0.113.200', 32, 64)).toBe('203.0.113.200/32');
    expect(networkPrefix('255.255.255.255', 0, 64)).toBe('0.0.0.0/0');
  });

  it('reduces IPv6 addresses to their network prefix, whatever the notation', () => {
    const a = networkPrefix('2001:db8:1:2:aaaa:bbbb:cccc:dddd', 24, 64);
    const b = networkPrefix('2001:0db8:0001:0002::1', 24, 64);
    expect(a).toBe('2001:db8:1:2:0:0:0:0/64');
    expect(b).toBe(a);
    expect(networkPrefix('2001:db8:1:3::1', 24, 64)).not.toBe(a);
    expect(networkPrefix('::ffff:10.1.2.3', 24, 64)).toBe('10.1.2.0/24');
  });

  it('groups one IPv6 host block (/64) into one rate-limit identity but keeps IPv4 addresses apart', () => {
    expect(rateLimitIpKey('2001:db8:0:1::1')).toBe(rateLimitIpKey('2001:db8:0:1:ffff::2'));
    expect(rateLimitIpKey('2001:db8:0:1::1')).not.toBe(rateLimitIpKey('2001:db8:0:2::1'));
    expect(rateLimitIpKey('198.51.100.1')).toBe('198.51.100.1');
    expect(rateLimitIpKey('198.51.100.1')).not.toBe(rateLimitIpKey('198.51.100.2'));
  });

  describe('behind a trusted proxy', () => {
    let app: INestApplication;
    beforeAll(async () => {
      const moduleRef = await Test.createTestingModule({ controllers: [WhoController] }).compile();
      app = moduleRef.createNestApplication({ logger: false });
      applyTrustedProxies(app, ['loopback']);
      await app.init();
    });
    afterAll(() => app?.close());
    const who = async (forwardedFor: string) => (await request(app.getHttpServer()).get('/who').set('x-forwarded-for', forwardedFor)).text;

    it('takes the address the proxy forwarded, without the port some load balancers add', async () => {
      expect(await who('203.0.113.7')).toBe('203.0.113.7');
      expect(await who('203.0.113.7:1111')).toBe('203.0.113.7');
      expect(await who('203.0.113.7:2222')).toBe('203.0.113.7');
      expect(await who('[2001:db8::7]:443')).toBe('2001:db8::7');
      expect(await who('2001:db8::7')).toBe('2001:db8::7');
    });

    it('charges a forwarded value that is no address to the proxy that sent it', async () => {
      expect(await who('unknown')).toBe('127.0.0.1');
      expect(await who('203.0.113.7:port')).toBe('127.0.0.1');
    });
  });
});
