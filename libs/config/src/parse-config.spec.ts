import express from 'express';
import { z } from 'zod';

import { bool, ipList, positiveInt, url } from './config-fields';
import { ConfigValidationError } from './config-validation.error';
import { parseConfig } from './parse-config';

const schema = z.object({
  PORT: positiveInt(3000),
  REDIS_URL: url(['redis'], 'redis://127.0.0.1:6379'),
  TRUSTED_PROXIES: ipList('loopback'),
  FLAG: bool(false),
});

describe('parseConfig', () => {
  it('applies defaults, and treats empty values as unset', () => {
    expect(parseConfig('app', schema, { PORT: '' })).toEqual({
      PORT: 3000,
      REDIS_URL: 'redis://127.0.0.1:6379',
      TRUSTED_PROXIES: ['loopback'],
      FLAG: false,
    });
  });

  it('parses typed values', () => {
    const config = parseConfig('app', schema, { PORT: '8080', TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.1,::1', FLAG: 'yes' });
    expect(config.PORT).toBe(8080);
    expect(config.TRUSTED_PROXIES).toEqual(['10.0.0.0/8', '192.0.2.1', '::1']);
    expect(config.FLAG).toBe(true);
  });

  it('treats "none" as an empty proxy list', () => {
    expect(parseConfig('app', schema, { TRUSTED_PROXIES: 'none' }).TRUSTED_PROXIES).toEqual([]);
  });

  // Express hands the list to proxy-addr at start-up, which throws (a stack trace, no variable name) on
  // a prefix that is not plain digits or is 0: such a value must be refused here, by name. A /0 would
  // also let every peer set X-Forwarded-For.
  it.each(['0.0.0.0/0', '::/0', '10.0.0.0/', '10.0.0.0/ 8', '10.0.0.0/8.0', '10.0.0.0/0x8', '10.0.0.0/1e1', '10.0.0.0/+8'])(
    'refuses the proxy entry %s, which Express cannot compile, naming TRUSTED_PROXIES',
    (entry) => {
      expect(() => parseConfig('app', schema, { TRUSTED_PROXIES: `192.0.2.1,${entry}` })).toThrow(/TRUSTED_PROXIES: /);
    },
  );

  // Express matches every IPv4 peer against an IPv4-mapped range: ::ffff:0:0/96 is 0.0.0.0/0 spelt
  // in IPv6, and let every IPv4 client set its own address through X-Forwarded-For.
  it.each(['::ffff:0:0/96', '::ffff:0.0.0.0/96', '::FFFF:203.0.113.9/96', '0:0:0:0:0:ffff:0:0/96'])(
    'refuses the proxy entry %s, which trusts every IPv4 peer, naming TRUSTED_PROXIES',
    (entry) => {
      expect(() => parseConfig('app', schema, { TRUSTED_PROXIES: `192.0.2.1,${entry}` })).toThrow(/TRUSTED_PROXIES: /);
    },
  );

  // Node's isIP takes any zone id after '%', proxy-addr (ipaddr.js) only letters and digits: an
  // interface name such as eth-0 or a VLAN's en0.100 made Express throw at start-up, unnamed.
  it.each(['fe80::1%eth-0', 'fe80::1%en0.100', 'fe80::%br-lan/64'])(
    'refuses the proxy entry %s, whose zone id Express cannot read, naming TRUSTED_PROXIES',
    (entry) => {
      expect(() => parseConfig('app', schema, { TRUSTED_PROXIES: `192.0.2.1,${entry}` })).toThrow(/TRUSTED_PROXIES: /);
    },
  );

  it('accepts every proxy entry it lets through in Express', () => {
    const { TRUSTED_PROXIES } = parseConfig('app', schema, {
      TRUSTED_PROXIES:
        '10.0.0.0/8,10.0.0.0/08,192.0.2.1/32,::1/128,fe80::/10,fe80::1%eth0,fe80::%Wlan0/64,::ffff:10.0.0.0/104,::/96,loopback',
    });
    expect(() => express().set('trust proxy', TRUSTED_PROXIES)).not.toThrow();
  });

  it('reports every bad setting by name in one error', () => {
    let error: unknown;
    try {
      parseConfig('app', schema, { PORT: '-1', REDIS_URL: 'http://x', TRUSTED_PROXIES: '10.0.0.0/33' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigValidationError);
    const message = (error as Error).message;
    expect(message).toContain('PORT');
    expect(message).toContain('REDIS_URL');
    expect(message).toContain('TRUSTED_PROXIES');
  });
});
