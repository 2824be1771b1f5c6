#!/usr/bin/env node
// `npm start`: checks that Redis and Postgres answer, builds the apps if their sources changed,
// applies migrations, then runs the three apps together with prefixed logs. Ctrl-C stops all.
'use strict';
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { APPS, buildIfStale } = require('./build-if-stale');
const { checkDependencies } = require('./preflight');

const root = join(__dirname, '..');

async function main() {
  await checkDependencies();
  buildIfStale('start');
  for (const app of ['auth-service', 'profile-service']) {
    execFileSync(process.execPath, [join(root, 'dist/apps', app, 'main.js'), 'migrate'], { cwd: root, stdio: 'inherit' });
  }
  const { concurrently } = require('concurrently');
  const { result } = concurrently(
    APPS.map((app, i) => ({
      name: app,
      command: `node dist/apps/${app}/main.js`,
      prefixColor: ['magenta', 'cyan', 'green'][i],
      // The same V8 heap limit as the image (see the Dockerfile), unless NODE_OPTIONS says otherwise.
      env: { DATABASE_MIGRATE_ON_START: 'false', NODE_OPTIONS: process.env.NODE_OPTIONS ?? '--max-old-space-size=512' },
    })),
    { cwd: root, killOthersOn: ['failure'], prefix: 'name', handleInput: false },
  );
  await result.catch(() => {
    process.exitCode = 1;
  });
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
