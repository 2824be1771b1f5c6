import { deviceLabel } from './device-label';
import { SessionFingerprinter } from './session-fingerprint';

describe('SessionFingerprinter', () => {
  const fingerprinter = new SessionFingerprinter('a fingerprint secret of 32+ characters', 24, 64);
  const ua = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
  const fp = (ip: string, userAgent = ua) => fingerprinter.fingerprint({ ip, userAgent });

  it('gives addresses in the same IPv4 /24 the same network fingerprint', () => {
    expect(fp('203.0.113.7').ip).toBe(fp('203.0.113.250').ip);
    // IPv4-mapped IPv6 is the same client as plain IPv4.
    expect(fp('::ffff:203.0.113.9').ip).toBe(fp('203.0.113.7').ip);
  });

  it('gives addresses in different IPv4 /24s different network fingerprints', () => {
    expect(fp('203.0.113.7').ip).not.toBe(fp('203.0.114.7').ip);
    expect(fp('10.0.0.1').ip).not.toBe(fp('11.0.0.1').ip);
  });

  it('compares IPv6 addresses by /64', () => {
    expect(fp('2001:db8:1:2::1').ip).toBe(fp('2001:db8:1:2:ffff:ffff:ffff:ffff').ip);
    expect(fp('2001:db8:1:2::1').ip).toBe(fp('2001:0db8:0001:0002:0:0:0:1').ip);
    expect(fp('2001:db8:1:2::1').ip).not.toBe(fp('2001:db8:1:3::1').ip);
  });

  it('during a secret rotation, also gives the fingerprint under the previous secret', () => {
    const rotated = new SessionFingerprinter('the next fingerprint secret, 32+ chars', 24, 64, 'a fingerprint secret of 32+ characters');
    const client = { ip: '203.0.113.7', userAgent: ua };
    expect(rotated.previousFingerprint(client)).toEqual(fp('203.0.113.7'));
    expect(rotated.fingerprint(client)).not.toEqual(fp('203.0.113.7'));
    expect(fingerprinter.previousFingerprint(client)).toBeUndefined();
  });

  it('separates user agents and keys everything with the secret', () => {
    expect(fp('203.0.113.7').userAgent).toBe(fp('198.51.100.1').userAgent);
    expect(fp('203.0.113.7', 'curl/8.0').userAgent).not.toBe(fp('203.0.113.7').userAgent);
    const other = new SessionFingerprinter('another fingerprint secret, 32+ chars', 24, 64);
    expect(other.fingerprint({ ip: '203.0.113.7', userAgent: ua })).not.toEqual(fp('203.0.113.7'));
    // Nothing readable is stored: neither the address nor the user agent appears in the output.
    expect(JSON.stringify(fp('203.0.113.7'))).not.toMatch(/203\.0\.113|Firefox/);
  });

  it('honours a configured prefix length', () => {
    const wide = new SessionFingerprinter('a fingerprint secret of 32+ characters', 16, 48);
    expect(wide.fingerprint({ ip: '203.0.1.1', userAgent: ua }).ip).toBe(wide.fingerprint({ ip: '203.0.200.1', userAgent: ua }).ip);
    expect(wide.fingerprint({ ip: '2001:db8:1:2::1', userAgent: ua }).ip).toBe(
      wide.fingerprint({ ip: '2001:db8:1:9::1', userAgent: ua }).ip,
    );
  });
});

describe('deviceLabel', () => {
  it.each([
    ['Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Firefox 128 on Windows'],
    [
      'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
      'Chrome 126 on Apple Macintosh',
    ],
    [
      'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
      'Mobile Safari 17 on Apple iPhone',
    ],
    ['', 'Unknown device'],
  ])('labels %j as %j', (userAgent, label) => {
    expect(deviceLabel(userAgent)).toBe(label);
  });

  it('falls back to a bounded slice of an unrecognised user agent', () => {
    const odd = 'x'.repeat(200);
    expect(deviceLabel(odd)).toBe('x'.repeat(60));
    expect(deviceLabel('jest-e2e/1.0')).toBe('jest-e2e/1.0');
  });

  it('keeps the label within 60 UTF-8 bytes whatever characters the agent has, so a session hash stays compact in Redis', () => {
    // HTTP headers arrive as Latin-1: each byte above 0x7f is a character of two UTF-8 bytes.
    for (const odd of ['é'.repeat(300), 'ÿ'.repeat(61), `Mozilla/5.0 (${'é'.repeat(100)})`, '😀'.repeat(100), `${'x'.repeat(59)}é`]) {
      const label = deviceLabel(odd);
      expect(Buffer.byteLength(label)).toBeLessThanOrEqual(60);
      // Whole characters only: a lone surrogate would not survive the round trip through UTF-8.
      expect(Buffer.from(label).toString()).toBe(label);
    }
    expect(deviceLabel('é'.repeat(300))).toBe('é'.repeat(30));
    expect(deviceLabel(`${'x'.repeat(59)}é`)).toBe('x'.repeat(59));
  });

  it('labels an agent seen before the same way after a flood of other agents', () => {
    const firefox = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0';
    expect(deviceLabel(firefox)).toBe('Firefox 128 on Windows');
    for (let i = 0; i < 1500; i++) expect(deviceLabel(`flood-agent/${i}`)).toBe(`flood-agent/${i}`);
    expect(deviceLabel(firefox)).toBe('Firefox 128 on Windows');
    expect(deviceLabel('flood-agent/1499')).toBe('flood-agent/1499');
  });
});
