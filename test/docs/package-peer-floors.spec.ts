import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const LIBS = join(__dirname, '../../libs');

/**
 * Names the packages' code imports from a peer that the peer's first release of the major does not
 * have. An app already on an older version keeps it when it installs a package (npm sees the peer
 * satisfied), so the import is undefined there: a crash at start-up, or at the first use (docs/packages.md).
 */
const ADDED_IN = [
  { peer: 'ioredis', name: 'Redis', since: '5.3.0' },
  { peer: 'rxjs', name: 'mergeMap', since: '7.2.0' },
  { peer: '@nestjs/swagger', name: 'SchemaObject', since: '11.4.7' },
  // Re-exported from pg-protocol by brianc/node-postgres#2445: `instanceof undefined` throws at the first query error.
  { peer: 'pg', name: 'DatabaseError', since: '8.6.0' },
];

interface PackageJson {
  peerDependencies?: Record<string, string>;
}

const parse = (version: string) => version.split('.').map(Number);
const atLeast = (a: number[], b: number[]) => a.reduce((order, part, i) => order || part - b[i], 0) >= 0;

/** The lowest version a range as written in libs/ (`^1.2.3 || ^2.0.0`) admits. */
function floorOf(range: string): number[] {
  return range
    .split('||')
    .map((alternative) => parse(alternative.trim().replace(/^\^/, '')))
    .reduce((low, version) => (atLeast(version, low) ? low : version));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return sources(path);
    return entry.endsWith('.ts') && !entry.endsWith('.spec.ts') ? [path] : [];
  });
}

/** The names each peer is imported with in a package's code. */
function importedNames(name: string): Map<string, Set<string>> {
  const names = new Map<string, Set<string>>();
  for (const file of sources(join(LIBS, name, 'src'))) {
    for (const [, list, peer] of readFileSync(file, 'utf8').matchAll(/import\s+(?:type\s+)?\{([^}]*)\}\s+from\s+'([^']+)'/g)) {
      const imported = list.split(',').map(
        (part) =>
          part
            .trim()
            .replace(/^type\s+/, '')
            .split(/\s+as\s+/)[0],
      );
      names.set(peer, new Set([...(names.get(peer) ?? []), ...imported]));
    }
  }
  return names;
}

const packages = readdirSync(LIBS).filter((name) => existsSync(join(LIBS, name, 'package.json')) && existsSync(join(LIBS, name, 'src')));

describe.each(packages)('libs/%s/package.json', (name) => {
  const pkg = JSON.parse(readFileSync(join(LIBS, name, 'package.json'), 'utf8')) as PackageJson;

  it('starts each peer range at a version that has every name the code imports from it', () => {
    const imported = importedNames(name);
    const tooLow = ADDED_IN.filter(({ peer, name: needed, since }) => {
      const range = pkg.peerDependencies?.[peer];
      return range !== undefined && imported.get(peer)?.has(needed) && !atLeast(floorOf(range), parse(since));
    });
    expect(tooLow.map(({ peer, name: needed, since }) => `${peer} ${pkg.peerDependencies![peer]}: ${needed} needs ${since}`)).toEqual([]);
  });
});
