import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { z } from 'zod';

import { parseConfig } from './parse-config';
import { pemCaFile, redisClusterSeeds, redisConnection } from './redis-connection.env';

const schema = z.object({ REDIS_CLUSTER_NODES: redisClusterSeeds(), REDIS_TLS_CA_FILE: pemCaFile() });
const parse = (env: Record<string, string>) => parseConfig('app', schema, env);
const failure = (env: Record<string, string>) => {
  try {
    parse(env);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('the settings were accepted');
};

describe('REDIS_CLUSTER_NODES', () => {
  it('takes host:port seeds, with neither credentials nor TLS', () => {
    expect(parse({ REDIS_CLUSTER_NODES: '10.0.0.1:6379, 10.0.0.2:6380' }).REDIS_CLUSTER_NODES).toEqual({
      nodes: ['10.0.0.1:6379', '10.0.0.2:6380'],
      tls: false,
    });
  });

  it('takes the ACL user, the password (percent-decoded) and TLS from rediss:// seeds', () => {
    const seeds = 'rediss://app:p%40ss%3Aword@node-a.internal:6379,rediss://app:p%40ss%3Aword@node-b.internal:6379';
    expect(parse({ REDIS_CLUSTER_NODES: seeds }).REDIS_CLUSTER_NODES).toEqual({
      nodes: ['node-a.internal:6379', 'node-b.internal:6379'],
      username: 'app',
      password: 'p@ss:word',
      tls: true,
    });
  });

  it('takes a password without a user, and redis:// without TLS', () => {
    expect(parse({ REDIS_CLUSTER_NODES: 'redis://:secret-one@10.0.0.1:6379' }).REDIS_CLUSTER_NODES).toEqual({
      nodes: ['10.0.0.1:6379'],
      password: 'secret-one',
      tls: false,
    });
  });

  // One set of credentials and one TLS setting reach every node: seeds that disagree would make the
  // cluster's reach depend on which seed answered first.
  it.each([
    ['two passwords', 'rediss://:secret-one@a:1,rediss://:secret-two@b:2'],
    ['TLS on one seed only', 'rediss://:secret-one@a:1,redis://:secret-one@b:2'],
    ['a seed without the password', 'rediss://:secret-one@a:1,b:2'],
  ])('refuses seeds that disagree (%s), naming the setting and no password', (_case, seeds) => {
    const message = failure({ REDIS_CLUSTER_NODES: seeds });
    expect(message).toMatch(/REDIS_CLUSTER_NODES: every seed must have the same scheme, user and password/);
    expect(message).not.toMatch(/secret-(one|two)/);
  });

  it.each([
    'rediss://:secret-one@a:1/0',
    'rediss://:secret-one@a:1?tls=false',
    'rediss://:secret-one@a',
    'http://:secret-one@a:1',
    'rediss://:secret-one@[::1]:1',
    'a:1:secret-one',
    'secret-one@a:1',
  ])('refuses the seed %s by position, without repeating it', (seed) => {
    const message = failure({ REDIS_CLUSTER_NODES: `b:2,${seed}` });
    expect(message).toMatch(/REDIS_CLUSTER_NODES: seed 2 must be host:port, or a redis:\/\/ or rediss:\/\/ URL/);
    expect(message).not.toContain('secret-one');
  });
});

describe('REDIS_TLS_CA_FILE', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'redis-ca-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

  it('reads the CA certificates at start-up', () => {
    const file = join(dir, 'ca.pem');
    writeFileSync(file, PEM);
    expect(parse({ REDIS_TLS_CA_FILE: file }).REDIS_TLS_CA_FILE).toBe(PEM);
  });

  it('refuses a file that cannot be read, or holds no certificate, by name', () => {
    expect(failure({ REDIS_TLS_CA_FILE: join(dir, 'missing.pem') })).toMatch(/REDIS_TLS_CA_FILE: cannot read .*missing\.pem \(ENOENT\)/);
    const key = join(dir, 'key.pem');
    writeFileSync(key, '-----BEGIN PRIVATE KEY-----\n');
    expect(failure({ REDIS_TLS_CA_FILE: key })).toMatch(/REDIS_TLS_CA_FILE: .*key\.pem holds no PEM certificate/);
  });
});

describe('redisConnection', () => {
  const REDIS_URL = 'redis://127.0.0.1:6379';

  it('is the single Redis of REDIS_URL when no cluster is set', () => {
    expect(redisConnection({ REDIS_URL })).toEqual({ url: REDIS_URL });
  });

  it('turns TLS on with a CA file, for a single Redis too', () => {
    expect(redisConnection({ REDIS_URL, REDIS_TLS_CA_FILE: 'PEM' })).toEqual({ url: REDIS_URL, tls: { ca: 'PEM' } });
  });

  it("reaches a cluster with its seeds' credentials, over TLS with Node's CAs or the given ones", () => {
    const seeds = { nodes: ['a:1'], username: 'app', password: 'pw', tls: true };
    expect(redisConnection({ REDIS_URL, REDIS_CLUSTER_NODES: seeds })).toEqual({
      url: REDIS_URL,
      clusterNodes: ['a:1'],
      username: 'app',
      password: 'pw',
      tls: true,
    });
    expect(redisConnection({ REDIS_URL, REDIS_CLUSTER_NODES: seeds, REDIS_TLS_CA_FILE: 'PEM' }).tls).toEqual({ ca: 'PEM' });
    expect(redisConnection({ REDIS_URL, REDIS_CLUSTER_NODES: { nodes: ['a:1'], tls: false } }).tls).toBeUndefined();
  });
});
