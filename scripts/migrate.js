#!/usr/bin/env node
// `npm run migrate`: creates the database named in DATABASE_URL if needed and applies each service's
// pending SQL migrations (apps/<service>/migrations; the services also do this at start-up).
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
for (const app of ['auth-service', 'profile-service']) {
  const main = join(root, 'dist/apps', app, 'main.js');
  if (!existsSync(main)) {
    execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', app], { cwd: root, stdio: 'inherit' });
  }
  execFileSync(process.execPath, [main, 'migrate'], { cwd: root, stdio: 'inherit' });
}
