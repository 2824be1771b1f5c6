import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** 32 random bytes: the development value of an HMAC secret. */
export const randomDevSecret = (): string => randomBytes(32).toString('base64url');

/**
 * For development only: returns the secret stored in `<dir>/<name>`, creating it with `create`
 * (mode 0600, exclusive create so concurrently starting services agree) when it is missing.
 * Production sets every secret through the environment: `resolveSecrets` never calls this there.
 */
export function loadOrCreateDevSecret(dir: string, name: string, create: () => string = randomDevSecret): string {
  const path = join(dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, create(), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(path, 'utf8').trim();
}
