import { spawn } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import request from 'supertest';

import type { Env } from '@nest-hardening/config';

import { createTestDatabase, registerAndLogin, startTestSystem, type TestSystem } from '../support';

const ROOT = join(__dirname, '../..');

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs an app's real entry point (main.ts, as `npm start` would run its build) with exactly `env`. */
function runMain(app: string, env: Env, args: string[] = []): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', join('apps', app, 'src/main.ts'), ...args],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // A process that did start (the bug) must not outlive the test.
    const guard = setTimeout(() => child.kill('SIGKILL'), 90_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      resolve({ code, stdout, stderr });
    });
  });
}

const secret = () => randomBytes(32).toString('base64url');

function productionSecrets(): Env {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    NODE_ENV: 'production',
    JWT_PRIVATE_KEY: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    REFRESH_TOKEN_SECRET: secret(),
    FINGERPRINT_SECRET: secret(),
    PSEUDONYM_SECRET: secret(),
    LOCKOUT_SECRET: secret(),
    GATEWAY_SECRET: secret(),
  };
}

describe('production mode (NODE_ENV=production)', () => {
  let workDir: string;

  beforeAll(() => {
    workDir = mkdtempSync(join(tmpdir(), 'sec-prod-'));
  });

  afterAll(() => rmSync(workDir, { recursive: true, force: true }));

  it('refuses to start without secrets: exit code 1 and one stderr line naming every missing variable, no key generated', async () => {
    const expected: Record<string, string[]> = {
      'auth-service': [
        'JWT_PRIVATE_KEY',
        'REFRESH_TOKEN_SECRET',
        'FINGERPRINT_SECRET',
        'PSEUDONYM_SECRET',
        'LOCKOUT_SECRET',
        'GATEWAY_SECRET',
      ],
      'api-gateway': ['PSEUDONYM_SECRET', 'GATEWAY_SECRET'],
      'profile-service': ['PSEUDONYM_SECRET', 'GATEWAY_SECRET'],
    };
    const keysDir = join(workDir, 'no-secrets-keys');
    const apps = Object.keys(expected);
    // Nothing listens on port 1: should an app get past its config, it fails there without touching shared state.
    const unreachable = { REDIS_URL: 'redis://127.0.0.1:1', DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none', PORT: '0' };
    const exits = await Promise.all(apps.map((app) => runMain(app, { NODE_ENV: 'production', KEYS_DIR: keysDir, ...unreachable })));
    apps.forEach((app, i) => {
      const { code, stderr } = exits[i];
      expect({ app, code }).toEqual({ app, code: 1 });
      const lines = stderr.trimEnd().split('\n');
      expect(lines).toEqual([expect.stringMatching(new RegExp(`^${app}: failed to start: missing required settings in production: `))]);
      const named = /in production: ([A-Z_]+(?:, [A-Z_]+)*)/.exec(lines[0])?.[1].split(', ');
      expect(named).toEqual(expected[app]);
    });
    expect(existsSync(keysDir)).toBe(false);
  }, 120_000);

  it('runs `auth-service migrate` without secrets: a migration job never needs the signing key', async () => {
    const database = await createTestDatabase('prod-migrate');
    try {
      const exit = await runMain(
        'auth-service',
        { NODE_ENV: 'production', DATABASE_URL: database.url, KEYS_DIR: join(workDir, 'migrate-keys') },
        ['migrate'],
      );
      expect(exit).toEqual({ code: 0, stdout: 'migrations: none pending\n', stderr: '' });
    } finally {
      await database.drop();
    }
  }, 120_000);

  describe('with every secret set', () => {
    let system: TestSystem;
    const keysDir = () => join(workDir, 'keys');

    beforeAll(async () => {
      system = await startTestSystem({ label: 'prod', env: { ...productionSecrets(), KEYS_DIR: keysDir() } });
    });

    afterAll(() => system?.close());

    it('starts, signs tokens with the configured key and generates nothing', async () => {
      const user = await registerAndLogin(system.gatewayUrl);
      expect((await request(system.gatewayUrl).get('/api/me').set('authorization', `Bearer ${user.accessToken}`)).status).toBe(200);
      expect(existsSync(keysDir()) ? readdirSync(keysDir()) : []).toEqual([]);
    });

    it('serves no /docs, on the gateway or a service', async () => {
      for (const url of [system.gatewayUrl, system.authUrl, system.profileUrl]) {
        expect((await request(url).get('/docs')).status).toBe(404);
        expect((await request(url).get('/docs-json')).status).toBe(404);
      }
    });

    it('serves no /metrics without METRICS_TOKEN, on the gateway or a service', async () => {
      for (const url of [system.gatewayUrl, system.authUrl, system.profileUrl]) {
        expect((await request(url).get('/metrics')).status).toBe(404);
      }
    });
  });

  describe('with METRICS_TOKEN and DOCS_ENABLED=true', () => {
    let system: TestSystem;
    const token = secret();

    beforeAll(async () => {
      system = await startTestSystem({ label: 'prod-ops', env: { ...productionSecrets(), METRICS_TOKEN: token, DOCS_ENABLED: 'true' } });
    });

    afterAll(() => system?.close());

    it("serves /docs, the gateway's with every service route under /api", async () => {
      expect((await request(system.authUrl).get('/docs-json')).status).toBe(200);
      expect((await request(system.profileUrl).get('/docs-json')).status).toBe(200);
      const gateway = await request(system.gatewayUrl).get('/docs-json');
      expect(gateway.status).toBe(200);
      expect(Object.keys(gateway.body.paths)).toEqual(expect.arrayContaining(['/metrics', '/api/auth/login', '/api/profile']));
      expect((await request(system.gatewayUrl).get('/docs')).status).toBe(200);
    });

    it("answers the gateway's /metrics only to the bearer of the token", async () => {
      const scrape = () => request(system.gatewayUrl).get('/metrics');
      expect((await scrape()).status).toBe(401);
      expect((await scrape().set('authorization', `Bearer ${secret()}`)).status).toBe(401);
      const ok = await scrape().set('authorization', `Bearer ${token}`);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('app_info{service="api-gateway"} 1');
      // Guessing is visible: the refused scrapes are counted.
      expect(ok.text).toMatch(/^http_requests_total\{(?=[^}]*route="\/metrics")(?=[^}]*status="401")[^}]*\} 2$/m);
    });
  });
});
