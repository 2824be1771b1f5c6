#!/usr/bin/env node
// Pins a copy of an example (its package.json in <dir>) to the lowest version of every peer
// dependency that its @nest-hardening packages accept, and prints the pins. A team whose app is
// on those versions keeps them when it installs the packages (npm sees the peers satisfied), so
// the examples run there too: a peer range that admits a version the code cannot run on fails.
// Usage: node pin-lowest-peers.js <example> <dir>
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');

const { manifestOf, packagesFor } = require('./packages-for');

// Released together with @nestjs/core: an app keeps them at its version of it.
const WITH_NEST_CORE = ['@nestjs/platform-express', '@nestjs/testing'];

const parse = (version) => version.split('.').map(Number);
const compare = (a, b) => a.reduce((order, part, i) => order || part - b[i], 0);

/** The alternatives of a range as written in libs/ (`^1.2.3 || ^2.0.0`), as caret floors. */
function alternatives(name, range) {
  return range.split('||').map((alternative) => {
    const match = /^\^?(\d+\.\d+\.\d+)$/.exec(alternative.trim());
    if (!match) throw new Error(`${name}: cannot read the range ${JSON.stringify(range)}`);
    return parse(match[1]);
  });
}

/** Whether `version` satisfies the caret range `^floor` (npm semver, without prereleases). */
function caret(floor, version) {
  const fixed = floor[0] > 0 ? 1 : floor[1] > 0 ? 2 : 3;
  return floor.slice(0, fixed).every((part, i) => part === version[i]) && compare(version, floor) >= 0;
}

const [example, dir] = process.argv.slice(2);
const ranges = new Map();
for (const name of packagesFor(example)) {
  const { peerDependencies = {}, peerDependenciesMeta = {} } = manifestOf(name);
  for (const [peer, range] of Object.entries(peerDependencies)) {
    if (peerDependenciesMeta[peer]?.optional) continue;
    ranges.set(peer, [...(ranges.get(peer) ?? []), { by: name, floors: alternatives(peer, range) }]);
  }
}

const pins = new Map();
for (const [peer, accepted] of ranges) {
  // The lowest version every package accepts is one of their floors.
  const candidates = accepted.flatMap(({ floors }) => floors).sort(compare);
  const lowest = candidates.find((version) => accepted.every(({ floors }) => floors.some((floor) => caret(floor, version))));
  if (!lowest) throw new Error(`${peer}: no version satisfies ${accepted.map(({ by }) => by).join(', ')} together`);
  pins.set(peer, lowest.join('.'));
}
for (const name of WITH_NEST_CORE) if (pins.has('@nestjs/core')) pins.set(name, pins.get('@nestjs/core'));

const file = join(dir, 'package.json');
const manifest = JSON.parse(readFileSync(file, 'utf8'));
for (const [name, version] of pins) {
  const section = manifest.devDependencies?.[name] !== undefined ? 'devDependencies' : 'dependencies';
  manifest[section] = { ...manifest[section], [name]: version };
  console.log(`${name}@${version}`);
}
writeFileSync(file, JSON.stringify(manifest, null, 2) + '\n');
