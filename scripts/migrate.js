#!/usr/bin/env node
// `npm run migrate`: creates the database named in DATABASE_URL if needed and applies pending
// SQL migrations from libs/database/migrations (the apps also do this at start-up).
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const main = join(root, 'dist/apps/auth-service/main.js');
if (!existsSync(main)) {
  execFileSync(process.execPath, [require.resolve('@nestjs/cli/bin/nest.js'), 'build', 'auth-service'], { cwd: root, stdio: 'inherit' });
}
execFileSync(process.execPath, [main, 'migrate'], { cwd: root, stdio: 'inherit' });
