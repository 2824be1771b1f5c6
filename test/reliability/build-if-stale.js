#!/usr/bin/env node
// `npm run test:reliability` runs the built apps (dist/apps/*/main.js) as child processes: run
// `npm run build` first when any app's output is missing or older than a source file in apps/ or libs/.
'use strict';
const { execSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, utimesSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '../..');
const APPS = ['auth-service', 'api-gateway', 'profile-service'];

function newestSource(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    // libs/testing is test-only: it is not part of any app bundle.
    if (entry.isDirectory() && path === join(root, 'libs/testing')) continue;
    // A package's built output (libs/*/dist) is not an input of the app bundles.
    if (entry.isDirectory() && (entry.name === 'dist' || entry.name === 'node_modules')) continue;
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (/\.(ts|lua|json)$/.test(entry.name) && !/\.(spec|e2e-spec)\.ts$/.test(entry.name))
      newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

const sources = Math.max(newestSource(join(root, 'libs')), newestSource(join(root, 'apps')));
const stale = APPS.filter((app) => {
  const output = join(root, 'dist/apps', app, 'main.js');
  return !existsSync(output) || statSync(output).mtimeMs < sources;
});
if (stale.length === 0) {
  console.log('reliability: dist/apps is up to date');
} else {
  console.log(`reliability: ${stale.join(', ')} out of date: npm run build`);
  execSync('npm run build', { cwd: root, stdio: 'inherit' });
  // webpack does not rewrite a bundle whose content did not change (compareBeforeEmit), so its
  // mtime would stay older than the edited source and every later run would build again.
  const now = new Date();
  for (const app of APPS) utimesSync(join(root, 'dist/apps', app, 'main.js'), now, now);
}
