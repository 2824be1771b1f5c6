// The @nest-hardening packages an example installs: those its code imports, plus their
// @nest-hardening dependencies (not on the registry, so they come from the tarballs too).
'use strict';
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');

/** The package.json of a package in libs/, by its name. */
function manifestOf(name) {
  return JSON.parse(readFileSync(join(root, 'libs', name.split('/')[1], 'package.json'), 'utf8'));
}

function sources(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules' || entry.name === 'dist') return [];
    const path = join(dir, entry.name);
    return entry.isDirectory() ? sources(path) : entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** The names of the packages `example` (a folder of examples/) needs, sorted. */
function packagesFor(example) {
  const needed = new Set();
  const add = (name) => {
    if (needed.has(name)) return;
    needed.add(name);
    for (const dep of Object.keys(manifestOf(name).dependencies ?? {})) if (dep.startsWith('@nest-hardening/')) add(dep);
  };
  for (const file of sources(join(__dirname, example))) {
    for (const [, name] of readFileSync(file, 'utf8').matchAll(/from '(@nest-hardening\/[a-z-]+)'/g)) add(name);
  }
  return [...needed].sort();
}

module.exports = { manifestOf, packagesFor };
