import { execFile } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

/** What a script run by {@link runWithoutModules} printed as its last stdout line (JSON), and its exit code. */
export interface WithoutModulesResult<T> {
  code: number;
  output: T;
  stderr: string;
}

/**
 * Runs a TypeScript script of this repository in a fresh Node process in which the `blocked`
 * packages cannot be resolved (as if not installed): proves a library loads and works without
 * its optional peer dependencies. The script prints its result as one JSON line on stdout.
 */
export function runWithoutModules<T>(
  script: string,
  blocked: readonly string[],
  env: Record<string, string> = {},
): Promise<WithoutModulesResult<T>> {
  const args = [
    '-r',
    'ts-node/register/transpile-only',
    '-r',
    'tsconfig-paths/register',
    '-r',
    join(__dirname, 'block-modules.preload.ts'),
    join(ROOT, script),
  ];
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      args,
      {
        cwd: ROOT,
        env: { ...process.env, ...env, BLOCKED_MODULES: blocked.join(','), TS_NODE_PROJECT: join(ROOT, 'tsconfig.json') },
        timeout: 60_000,
      },
      (error, stdout, stderr) => {
        const lines = stdout.trim().split('\n');
        try {
          resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: JSON.parse(lines[lines.length - 1]) as T, stderr });
        } catch {
          reject(new Error(`no JSON result from ${script} (exit ${String(error?.code)}): ${stdout}\n${stderr}`));
        }
      },
    );
  });
}
