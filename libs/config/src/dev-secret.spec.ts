import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

import { loadOrCreateDevSecret } from './dev-secret';

const ROOT = join(__dirname, '../../..');

/**
 * Runs `loadOrCreateDevSecret` for `names` secrets in a process of its own, starting at `startAt`
 * (epoch ms), and returns the values it read, in order.
 */
async function createInChild(dir: string, names: number, startAt: number): Promise<string[]> {
  const script = `
    const { loadOrCreateDevSecret } = require('./libs/config/src/dev-secret');
    while (Date.now() < ${startAt});
    const values = [];
    for (let i = 0; i < ${names}; i++) values.push(loadOrCreateDevSecret(${JSON.stringify(dir)}, 'secret_' + i));
    process.stdout.write(JSON.stringify(values));
  `;
  const { stdout } = await promisify(execFile)(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', script], { cwd: ROOT });
  return JSON.parse(stdout) as string[];
}

describe('loadOrCreateDevSecret', () => {
  let dir: string;

  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'sec-dev-secret-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('gives services starting at once on an empty KEYS_DIR the same whole value of every secret', async () => {
    // `npm start` starts the three apps together, and each creates the shared secrets it misses.
    const names = 1000;
    const startAt = Date.now() + 4000;
    const reads = await Promise.all(Array.from({ length: 4 }, () => createInChild(dir, names, startAt)));
    const disagreeing: number[] = [];
    for (let i = 0; i < names; i++) {
      const values = reads.map((read) => read[i]);
      if (values.some((value) => !/^[\w-]{43}$/.test(value)) || new Set(values).size > 1) disagreeing.push(i);
    }
    expect(disagreeing).toEqual([]);
  });

  // A KEYS_DIR on a filesystem without hard links (a VirtualBox shared folder, FAT, an SMB share)
  // refuses link() with EPERM; such a checkout started before the secrets were linked into place.
  it.each(['EPERM', 'ENOTSUP'])('creates and keeps a secret where link() is refused with %s', (code) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the module object dev-secret.ts calls into
    const link = jest.spyOn(require('node:fs') as typeof import('node:fs'), 'linkSync').mockImplementation(() => {
      throw Object.assign(new Error(`${code}: operation not permitted, link`), { code });
    });
    try {
      const value = loadOrCreateDevSecret(dir, 'secret');
      expect(value).toMatch(/^[\w-]{43}$/);
      expect(loadOrCreateDevSecret(dir, 'secret')).toBe(value);
      expect(readdirSync(dir)).toEqual(['secret']);
    } finally {
      link.mockRestore();
    }
  });
});
