#!/usr/bin/env node
// `npm start`: checks that Redis and Postgres answer, builds the apps if their sources changed,
// applies migrations, then runs the three apps together with prefixed logs. Ctrl-C stops all.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');
const { checkDependencies } = require('./preflight');

const root = join(__dirname, '..');
const APPS = ['auth-service', 'api-gateway', 'profile-service'];

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // A package's built output (libs/*/dist) is not an input of the app bundles.
    if (entry.isDirectory() && (entry.name === 'dist' || entry.name === 'node_modules')) continue;
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function buildIfNeeded() {
  const sources = Math.max(newestMtime(join(root, 'libs')), newestMtime(join(root, 'apps')));
  for (const app of APPS) {
    const output = join(root, 'dist/apps', app, 'main.js');
    if (existsSync(output) && statSync(output).mtimeMs >= sources) continue;
    console.log(`building ${app} ...`);
    execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app], { cwd: root, stdio: 'inherit' });
  }
}

async function main() {
  await checkDependencies();
  buildIfNeeded();
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
