#!/usr/bin/env node
// `npm run migrate`: creates the database named in DATABASE_URL if needed and applies each service's
// pending SQL migrations (apps/<service>/migrations; the services also do this at start-up), with the
// services built from the checkout first if their output is older than it.
'use strict';
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const { buildIfStale } = require('./build-if-stale');

const root = join(__dirname, '..');
const services = ['auth-service', 'profile-service'];
buildIfStale('migrate', services);
for (const app of services) {
  execFileSync(process.execPath, [join(root, 'dist/apps', app, 'main.js'), 'migrate'], { cwd: root, stdio: 'inherit' });
}
