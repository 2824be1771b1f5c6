import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * For development only: returns the secret stored in `<dir>/<name>`, creating it (32 random bytes,
 * mode 0600, exclusive create so concurrently starting services agree) when it is missing.
 * Production sets every secret through the environment; callers log a warning when this is used.
 */
export function loadOrCreateDevSecret(dir: string, name: string): string {
  const path = join(dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, randomBytes(32).toString('base64url'), { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readFileSync(path, 'utf8').trim();
}
