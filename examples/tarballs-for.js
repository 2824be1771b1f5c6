#!/usr/bin/env node
// Prints the packed tarballs (.packs/) an example needs: the @nest-hardening packages its code
// imports, plus their @nest-hardening dependencies, so npm never looks for them on the registry.
'use strict';
const { existsSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const { packagesFor } = require('./packages-for');

const root = join(__dirname, '..');
const packs = JSON.parse(readFileSync(join(root, '.packs', 'packs.json'), 'utf8'));

const tarballs = packagesFor(process.argv[2]).map((name) => {
  const pack = packs.find((p) => p.name === name);
  if (!pack || !existsSync(join(root, '.packs', pack.filename))) throw new Error(`${name} is not packed: run npm run pack:packages`);
  return join(root, '.packs', pack.filename);
});
console.log(tarballs.join('\n'));
