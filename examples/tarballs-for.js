#!/usr/bin/env node
// Prints the packed tarballs (.packs/) an example needs: the @nest-hardening packages its code
// imports, plus their @nest-hardening dependencies, so npm never looks for them on the registry.
'use strict';
const { existsSync, readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const example = join(__dirname, process.argv[2]);
const packs = JSON.parse(readFileSync(join(root, '.packs', 'packs.json'), 'utf8'));

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

const needed = new Set();
const add = (name) => {
  if (needed.has(name)) return;
  needed.add(name);
  const manifest = JSON.parse(readFileSync(join(root, 'libs', name.split('/')[1], 'package.json'), 'utf8'));
  for (const dep of Object.keys(manifest.dependencies ?? {})) if (dep.startsWith('@nest-hardening/')) add(dep);
};
for (const file of sources(example)) {
  for (const [, name] of readFileSync(file, 'utf8').matchAll(/from '(@nest-hardening\/[a-z-]+)'/g)) add(name);
}
const tarballs = [...needed].sort().map((name) => {
  const pack = packs.find((p) => p.name === name);
  if (!pack || !existsSync(join(root, '.packs', pack.filename))) throw new Error(`${name} is not packed: run npm run pack:packages`);
  return join(root, '.packs', pack.filename);
});
console.log(tarballs.join('\n'));
