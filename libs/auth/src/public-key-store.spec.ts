import { generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

import { Logger, type INestApplication } from '@nestjs/common';
import request from 'supertest';

import { eventually, sleep } from '@nest-hardening/testing';

import { guardedProbeModule, signedToken } from '../test/support/guarded-probe-app';
import { PublicKeyStore } from './public-key-store';

const jwk = (kid: string): JsonWebKey => ({
  ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' }),
  kid,
  use: 'sig',
});

/** A store reading its keys from `publicKeys`, counting the reads. */
function countingStore(publicKeys: () => JsonWebKey[], timing: { jwksMaxAgeMs?: number; jwksRefetchCooldownMs: number }) {
  let reads = 0;
  const store = new PublicKeyStore({
    issuer: 'i',
    audience: 'a',
    publicKeys: () => {
      reads++;
      return publicKeys();
    },
    ...timing,
  });
  return { store, reads: () => reads };
}

describe('PublicKeyStore', () => {
  it('learns a newly published key in the background once its copy is older than jwksMaxAgeMs, whatever the cooldown', async () => {
    const published = [jwk('current')];
    const { store, reads } = countingStore(() => [...published], { jwksMaxAgeMs: 50, jwksRefetchCooldownMs: 60_000 });
    expect(await store.get('current')).toBeDefined();
    published.push(jwk('next'));
    // Within the cooldown, an unknown kid does not cause a read.
    expect(await store.get('next')).toBeUndefined();
    await sleep(60);
    expect(await store.get('current')).toBeDefined();
    expect(await store.get('next')).toBeDefined();
    expect(reads()).toBe(2);
  });

  it('keeps its max age and cooldown when the wall clock steps back: a withdrawn key goes, a new kid is read', async () => {
    const withdrawn = jwk('withdrawn');
    let published = [withdrawn];
    // Long enough that a loaded machine cannot stall between two reads for as long (the count below).
    const { store, reads } = countingStore(() => [...published], { jwksMaxAgeMs: 300, jwksRefetchCooldownMs: 300 });
    expect(await store.get('withdrawn')).toBeDefined();
    // NTP steps this host's clock back a minute; meanwhile a compromised key is withdrawn and its
    // replacement published.
    const wallClock = Date.now;
    jest.spyOn(Date, 'now').mockImplementation(() => wallClock() - 60_000);
    try {
      published = [jwk('replacement')];
      await sleep(350);
      expect(await store.get('replacement')).toBeDefined();
      expect(await store.get('withdrawn')).toBeUndefined();
      expect(reads()).toBe(2);
    } finally {
      jest.restoreAllMocks();
    }
  });

  it('reads an empty or failing key set at most once per cooldown, however many unknown kids and JWKS requests arrive', async () => {
    const { store, reads } = countingStore(() => [], { jwksRefetchCooldownMs: 60_000 });
    for (let i = 0; i < 50; i++) expect(await store.get(`forged-${i}`)).toBeUndefined();
    for (let i = 0; i < 50; i++) expect(await store.publicJwks()).toEqual([]);
    expect(reads()).toBe(1);
  });

  it('answers every request for a newly published kid from the read already under way, not only the one that started it', async () => {
    const published = [jwk('current')];
    // auth-service answers in 200 ms.
    const server = createServer((_req, res) =>
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: published })), 200),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
      const store = new PublicKeyStore({ issuer: 'i', audience: 'a', jwksUrl, jwksRefetchCooldownMs: 100, jwksMaxAgeMs: 60_000 });
      expect(await store.get('current')).toBeDefined();
      published.push(jwk('next')); // a verifier that missed the publication sees the next key's first tokens
      await sleep(150);
      const first = store.get('next');
      await sleep(10);
      const second = store.get('next'); // within the cooldown, while the first one's read is under way
      expect(await first).toBeDefined();
      expect(await second).toBeDefined();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('treats an answer that is no key set as a failed read: logged, the keys held are kept and still republished', async () => {
    const current = jwk('current');
    const next = jwk('next');
    // A 200 JSON answer that is not a JWKS: a wrong JWKS_URL, a proxy's page, a broken deployment.
    let body: unknown = { keys: [current] };
    const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/.well-known/jwks.json`;
      const store = new PublicKeyStore({ issuer: 'i', audience: 'a', jwksUrl, jwksRefetchCooldownMs: 0, jwksMaxAgeMs: 60_000 });
      expect(await store.get('current')).toBeDefined();
      const version = store.version;
      for (const notAKeySet of [{ keys: { current } }, { keys: 'current' }, { error: 'not found' }, [current], null]) {
        body = notAKeySet;
        warn.mockClear();
        // The gateway republishes this at /.well-known/jwks.json: it must not turn into a 500.
        await expect(store.publicJwks()).resolves.toEqual([expect.objectContaining({ kid: 'current' })]);
        expect(await store.get('current')).toBeDefined();
        expect(store.version).toBe(version);
        expect(warn).toHaveBeenCalledWith(expect.stringContaining('could not fetch JWKS'));
      }
      // One entry that is not an object costs only that entry, as a malformed key does.
      body = { keys: [null, current, 'x', next] };
      expect((await store.publicJwks()).map((k) => (k as { kid: string }).kid)).toEqual(['current', 'next']);
    } finally {
      warn.mockRestore();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('republishes only the public members of the keys it accepts', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const withPrivatePart = { ...privateKey.export({ format: 'jwk' }), kid: 'leaky' } as JsonWebKey;
    const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }), kid: 'rsa' } as JsonWebKey;
    const store = new PublicKeyStore({ issuer: 'i', audience: 'a', publicKeys: () => [withPrivatePart, rsa] });
    const jwks = await store.publicJwks();
    expect(jwks).toEqual([{ kty: 'EC', crv: 'P-256', x: withPrivatePart.x, y: withPrivatePart.y, kid: 'leaky', alg: 'ES256', use: 'sig' }]);
  });

  it('changes its version when the key material changes, including a key replaced under the same kid, and only then', async () => {
    let published = [jwk('main'), jwk('next')];
    // Fresh objects on every read, as a fetched JWKS would be: the keys are compared, not the objects.
    const store = new PublicKeyStore({
      issuer: 'i',
      audience: 'a',
      publicKeys: () => published.map((key) => ({ ...key })),
      jwksRefetchCooldownMs: 0,
    });
    // With no cooldown, every publicJwks() re-reads the set before answering.
    await store.publicJwks();
    const initial = store.version;

    await store.publicJwks();
    expect(store.version).toBe(initial);
    published = [published[1], published[0]];
    await store.publicJwks();
    expect(store.version).toBe(initial);

    published = [jwk('main'), published[0]];
    await store.publicJwks();
    expect(store.version).not.toBe(initial);

    const replaced = store.version;
    published = [published[0]];
    await store.publicJwks();
    expect(store.version).not.toBe(replaced);
  });
});

/** A Nest app whose every route is behind the token guard, reading its keys from `publicKeys`. */
async function guardedApp(publicKeys: () => JsonWebKey[], timing: { jwksMaxAgeMs: number; jwksRefetchCooldownMs: number }) {
  const app = (await guardedProbeModule(publicKeys, timing)).createNestApplication({ logger: false });
  await app.init();
  return app;
}

/** A fresh admin access token signed by `privateKey` under `kid`. */
const adminToken = (privateKey: KeyObject, kid: string) => signedToken(privateKey, kid, 'admin');

describe('AccessTokenGuard when a key is replaced under the same kid', () => {
  let app: INestApplication;
  const keyPair = () => generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const compromised = keyPair();
  const replacement = keyPair();
  let published: KeyObject = compromised.publicKey;
  const jwks = (): JsonWebKey[] => [{ ...published.export({ format: 'jwk' }), kid: 'main', use: 'sig' }];
  const token = (privateKey: KeyObject) => adminToken(privateKey, 'main');
  const status = async (t: string) => (await request(app.getHttpServer()).get('/probe').set('authorization', `Bearer ${t}`)).status;

  beforeAll(async () => {
    app = await guardedApp(jwks, { jwksMaxAgeMs: 0, jwksRefetchCooldownMs: 0 });
  });

  afterAll(() => app?.close());

  it('refuses, once the set is re-read, a token signed by the withdrawn key, whether or not it was verified before', async () => {
    expect(await status(token(compromised.privateKey))).toBe(200);
    const seenBefore = token(compromised.privateKey);
    expect(await status(seenBefore)).toBe(200);
    expect(await status(seenBefore)).toBe(200); // now answered from the verified-token cache

    published = replacement.publicKey; // the compromised key is replaced, its kid unchanged
    // Each request re-reads the set in the background (jwksMaxAgeMs: 0); the replacement is accepted once one has.
    expect(await eventually(async () => (await status(token(replacement.privateKey))) === 200)).toBe(true);
    expect(await status(token(compromised.privateKey))).toBe(401);
    expect(await status(seenBefore)).toBe(401);
  });
});

describe('AccessTokenGuard when a key is withdrawn and only tokens it verified before keep coming', () => {
  let app: INestApplication;
  const withdrawn = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let published: JsonWebKey[] = [{ ...withdrawn.publicKey.export({ format: 'jwk' }), kid: 'withdrawn', use: 'sig' }, jwk('next')];

  beforeAll(async () => {
    app = await guardedApp(() => published, { jwksMaxAgeMs: 100, jwksRefetchCooldownMs: 100 });
  });

  afterAll(() => app?.close());

  it('refuses them once the set is older than jwksMaxAgeMs: a cache hit ages the set too', async () => {
    const stolen = adminToken(withdrawn.privateKey, 'withdrawn');
    const status = async () => (await request(app.getHttpServer()).get('/probe').set('authorization', `Bearer ${stolen}`)).status;
    expect(await status()).toBe(200);
    expect(await status()).toBe(200); // answered from the verified-token cache
    published = published.filter((key) => (key as { kid?: string }).kid !== 'withdrawn'); // rotation step 3, or a compromised key
    expect(await eventually(async () => (await status()) === 401, 5000)).toBe(true);
  });
});
