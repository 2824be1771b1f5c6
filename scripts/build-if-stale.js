#!/usr/bin/env node
// Builds each app whose output (dist/apps/<app>/main.js) is missing or older than a source file in
// apps/ or libs/, so that `npm start`, `npm run migrate`, the reliability suite and the benchmarks
// never run code older than the checkout. Run directly: `node scripts/build-if-stale.js [label]`.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, readdirSync, statSync, utimesSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
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

/** The apps (all by default) whose built output is missing or older than a source. */
function staleApps(apps = APPS) {
  const sources = Math.max(newestSource(join(root, 'libs')), newestSource(join(root, 'apps')));
  return apps.filter((app) => {
    const output = join(root, 'dist/apps', app, 'main.js');
    return !existsSync(output) || statSync(output).mtimeMs < sources;
  });
}

function buildIfStale(label = 'build', apps = APPS) {
  const stale = staleApps(apps);
  if (stale.length === 0) {
    console.log(`${label}: dist/apps is up to date`);
    return;
  }
  const now = new Date();
  for (const app of stale) {
    console.log(`${label}: building ${app} (its output is missing or older than a source) ...`);
    execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app], { cwd: root, stdio: 'inherit' });
    // webpack does not rewrite a bundle whose content did not change (compareBeforeEmit), so its
    // mtime would stay older than the edited source and every later run would build again.
    utimesSync(join(root, 'dist/apps', app, 'main.js'), now, now);
  }
}

module.exports = { APPS, buildIfStale, staleApps };

if (require.main === module) buildIfStale(process.argv[2]);
