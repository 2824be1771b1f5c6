#!/usr/bin/env node
// Packs every publishable package (libs/* not private) into .packs/ as npm would publish it, after
// `npm run build:packages`. Fails when a tarball holds anything but package.json, README.md,
// LICENSE and dist/, and prints each tarball's size. .packs/packs.json lists them for examples/run.sh.
'use strict';
const { execFileSync } = require('node:child_process');
const { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const destination = join(root, '.packs');
const ALLOWED = /^(package\.json|README\.md|LICENSE|dist\/.+)$/;

const workspaces = readdirSync(join(root, 'libs'))
  .filter((name) => existsSync(join(root, 'libs', name, 'package.json')))
  .filter((name) => !require(join(root, 'libs', name, 'package.json')).private)
  .map((name) => `libs/${name}`);
for (const workspace of workspaces) {
  if (!existsSync(join(root, workspace, 'dist', 'index.js'))) {
    console.error(`${workspace} is not built: run npm run build:packages first`);
    process.exit(1);
  }
}

rmSync(destination, { recursive: true, force: true });
mkdirSync(destination);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const args = ['pack', '--json', '--pack-destination', destination, ...workspaces.flatMap((w) => ['-w', w])];
const packs = JSON.parse(execFileSync(npm, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }));

const errors = [];
const kb = (bytes) => `${(bytes / 1024).toFixed(1)} kB`;
console.log(['package', 'tarball', 'unpacked', 'files'].join('\t'));
for (const pack of packs) {
  for (const { path } of pack.files) if (!ALLOWED.test(path)) errors.push(`${pack.name}: unexpected file ${path} in the tarball`);
  console.log([pack.name, kb(pack.size), kb(pack.unpackedSize), pack.entryCount].join('\t'));
}
writeFileSync(
  join(destination, 'packs.json'),
  JSON.stringify(
    packs.map(({ name, version, filename, size, unpackedSize, entryCount }) => ({
      name,
      version,
      filename,
      size,
      unpackedSize,
      entryCount,
    })),
    null,
    2,
  ) + '\n',
);
if (errors.length > 0) {
  console.error(errors.join('\n'));
  process.exit(1);
}
