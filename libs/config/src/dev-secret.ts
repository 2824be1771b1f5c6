import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** 32 random bytes: the development value of an HMAC secret. */
export const randomDevSecret = (): string => randomBytes(32).toString('base64url');

/** How `link()` fails on a filesystem that has no hard links. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * For development only: returns the secret stored in `<dir>/<name>`, creating it with `create`
 * (mode 0600) when it is missing. Concurrently starting services agree: the value is written whole
 * under a name of this process's own and then linked to `<name>`, which fails if another process
 * linked its value first, so no process reads a file still being written (an empty secret).
 * Production sets every secret through the environment: `resolveSecrets` never calls this there.
 */
export function loadOrCreateDevSecret(dir: string, name: string, create: () => string = randomDevSecret): string {
  const path = join(dir, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const existing = readIfPresent(path);
  if (existing !== undefined) return existing;
  const value = create();
  const draft = join(dir, `.${name}.${process.pid}.${randomBytes(6).toString('hex')}`);
  writeFileSync(draft, value, { flag: 'wx', mode: 0o600 });
  try {
    linkSync(draft, path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    // A filesystem without hard links (FAT, a VirtualBox or SMB share): an exclusive create still
    // makes every process keep one value, though one may read it before it is written whole.
    if (NO_HARD_LINKS.has(code)) writeIfAbsent(path, value);
    else if (code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(draft);
  }
  return readFileSync(path, 'utf8').trim();
}

function writeIfAbsent(path: string, value: string): void {
  try {
    writeFileSync(path, value, { flag: 'wx', mode: 0o600 });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function readIfPresent(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
