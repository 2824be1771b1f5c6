import { Algorithm, hash } from '@node-rs/argon2';

import { PasswordHasher } from './password-hasher';

describe('PasswordHasher', () => {
  const NFC = 'Zoë’s café in Malmö, 1999';
  const NFD = NFC.normalize('NFD');
  const hasher = new PasswordHasher();

  beforeAll(() => hasher.onModuleInit());

  it('hashes the NFC form: either spelling verifies', async () => {
    expect(NFD).not.toBe(NFC);
    const stored = await hasher.hash(NFD);
    expect(await hasher.verifyOrDummy(stored, NFC)).toBe(true);
    expect(await hasher.verifyOrDummy(stored, NFD)).toBe(true);
    expect(await hasher.verifyOrDummy(stored, 'Zoe’s cafe in Malmo, 1999')).toBe(false);
  });

  it('keeps verifying a hash made from the raw, unnormalised password', async () => {
    const legacy = await hash(NFD, { algorithm: Algorithm.Argon2id, memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    expect(await hasher.verifyOrDummy(legacy, NFD)).toBe(true);
  });

  it('never accepts a password for an unknown account, in either spelling', async () => {
    expect(await hasher.verifyOrDummy(undefined, NFC)).toBe(false);
    expect(await hasher.verifyOrDummy(undefined, NFD)).toBe(false);
  });
});
