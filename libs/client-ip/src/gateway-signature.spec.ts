import { signGatewayRequest, verifyGatewaySignature } from './gateway-signature';

const SECRET = 'a-gateway-secret-of-at-least-32-characters';
const FIELDS = { method: 'POST', path: '/auth/login', forwardedFor: '203.0.113.7', forwardedProto: 'https' };
const NOW = 1_800_000_000_000;
const MAX_AGE = 30_000;

describe('gateway signatures', () => {
  it('verifies what the gateway signed, within the replay window either way', () => {
    const header = signGatewayRequest(SECRET, FIELDS, NOW);
    expect(header).toMatch(/^t=1800000000000,v1=[A-Za-z0-9_-]{43}$/);
    expect(verifyGatewaySignature(SECRET, header, FIELDS, MAX_AGE, NOW)).toBe(true);
    expect(verifyGatewaySignature(SECRET, header, FIELDS, MAX_AGE, NOW + MAX_AGE)).toBe(true);
    expect(verifyGatewaySignature(SECRET, header, FIELDS, MAX_AGE, NOW - MAX_AGE)).toBe(true);
  });

  it('refuses a signature that is too old, or from too far ahead', () => {
    const header = signGatewayRequest(SECRET, FIELDS, NOW);
    expect(verifyGatewaySignature(SECRET, header, FIELDS, MAX_AGE, NOW + MAX_AGE + 1)).toBe(false);
    expect(verifyGatewaySignature(SECRET, header, FIELDS, MAX_AGE, NOW - MAX_AGE - 1)).toBe(false);
  });

  it.each([
    ['another client address', { forwardedFor: '203.0.113.8' }],
    ['another protocol', { forwardedProto: 'http' }],
    ['another path', { path: '/auth/register' }],
    ['another query', { path: '/auth/login?x=1' }],
    ['another method', { method: 'PUT' }],
  ])('refuses the signature for %s', (_what, change) => {
    const header = signGatewayRequest(SECRET, FIELDS, NOW);
    expect(verifyGatewaySignature(SECRET, header, { ...FIELDS, ...change }, MAX_AGE, NOW)).toBe(false);
  });

  it('refuses another secret, a missing or malformed header, and a forwarded value that is not one address', () => {
    const header = signGatewayRequest(SECRET, FIELDS, NOW);
    expect(verifyGatewaySignature(`${SECRET}!`, header, FIELDS, MAX_AGE, NOW)).toBe(false);
    expect(verifyGatewaySignature(SECRET, undefined, FIELDS, MAX_AGE, NOW)).toBe(false);
    for (const bad of [
      '',
      'garbage',
      header.replace('v1=', 'v2='),
      `${header}A`,
      header.slice(0, -1),
      `t=${NOW + 1},${header.split(',')[1]}`,
    ]) {
      expect(verifyGatewaySignature(SECRET, bad, FIELDS, MAX_AGE, NOW)).toBe(false);
    }
    const list = { ...FIELDS, forwardedFor: '203.0.113.7, 198.51.100.1' };
    expect(verifyGatewaySignature(SECRET, signGatewayRequest(SECRET, list, NOW), list, MAX_AGE, NOW)).toBe(false);
  });
});
