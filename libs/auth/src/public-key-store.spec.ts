import { generateKeyPairSync, type JsonWebKey } from 'node:crypto';

import { sleep } from '@nest-hardening/testing';

import { PublicKeyStore } from './public-key-store';

const jwk = (kid: string): JsonWebKey => ({
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  kid,
  use: 'sig',
});

describe('PublicKeyStore', () => {
  it('learns a newly published key in the background once its copy is older than jwksMaxAgeMs, whatever the cooldown', async () => {
    const published = [jwk('current')];
    let reads = 0;
    const store = new PublicKeyStore({
      issuer: 'i',
      audience: 'a',
      publicKeys: () => {
        reads++;
        return [...published];
      },
      jwksMaxAgeMs: 50,
      jwksRefetchCooldownMs: 60_000,
    });
    expect(await store.get('current')).toBeDefined();
    published.push(jwk('next'));
    // Within the cooldown, an unknown kid does not cause a read.
    expect(await store.get('next')).toBeUndefined();
    await sleep(60);
    expect(await store.get('current')).toBeDefined();
    expect(await store.get('next')).toBeDefined();
    expect(reads).toBe(2);
  });

  it('republishes only the public members of the keys it accepts', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const withPrivatePart = { ...privateKey.export({ format: 'jwk' }), kid: 'leaky' } as JsonWebKey;
    const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'rsa' } as JsonWebKey;
    const store = new PublicKeyStore({ issuer: 'i', audience: 'a', publicKeys: () => [withPrivatePart, rsa] });
    const jwks = await store.publicJwks();
    expect(jwks).toEqual([{ kty: 'EC', crv: 'P-256', x: withPrivatePart.x, y: withPrivatePart.y, kid: 'leaky', alg: 'ES256', use: 'sig' }]);
  });
});
