import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '../..');
const LIBS = join(ROOT, 'libs');

/**
 * Licences an MIT package may pull in without changing what its adopters may do. A copyleft one
 * (GPL, AGPL, LGPL) would bind every service that installs the package, which many companies'
 * policies forbid outright; ua-parser-js 2.x (AGPL-3.0) once came in this way.
 */
const PERMISSIVE = new Set(['MIT', 'MIT-0', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'Apache-2.0', '0BSD', 'BlueOak-1.0.0', 'Python-2.0']);

/** Packages whose package.json names no licence, with the one their own files state. */
const STATED_ELSEWHERE: Record<string, string> = { pause: 'MIT' }; // in its Readme.md (via passport)

interface PackageJson {
  name: string;
  license?: string;
  licenses?: { type: string }[];
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/** The package.json Node would load for `name` from `dir`, walking up the node_modules folders. */
function resolvePackage(name: string, dir: string): string | undefined {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(at) === at) return undefined;
  }
}

/**
 * What installing `pkg` brings: its dependencies and the peers npm installs with them (the READMEs
 * tell adopters so); for the library itself also its optional peers, which its README names. A
 * package's own optional ones are followed when installed here.
 */
function requirements(pkg: PackageJson, isLibrary: boolean): { name: string; required: boolean }[] {
  const optionalPeer = (name: string) => pkg.peerDependenciesMeta?.[name]?.optional === true;
  return [
    ...Object.keys(pkg.dependencies ?? {}).map((name) => ({ name, required: true })),
    ...Object.keys(pkg.optionalDependencies ?? {}).map((name) => ({ name, required: false })),
    ...Object.keys(pkg.peerDependencies ?? {}).map((name) => ({ name, required: isLibrary || !optionalPeer(name) })),
  ];
}

/** Every package a library installs with it (transitively), with its licence. */
function installedWith(library: string): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (file: string, isLibrary: boolean) => {
    for (const { name, required } of requirements(read(file), isLibrary)) {
      if (name.startsWith('@nest-hardening/')) continue; // checked as a library of its own
      const depFile = resolvePackage(name, dirname(file));
      if (!depFile) {
        if (required) throw new Error(`${name} is not installed (from ${file})`);
        continue;
      }
      if (found.has(depFile)) continue;
      const dep = read(depFile);
      found.set(depFile, dep.license ?? dep.licenses?.map((l) => l.type).join(' OR ') ?? STATED_ELSEWHERE[dep.name] ?? 'none');
      visit(depFile, false);
    }
  };
  visit(join(LIBS, library, 'package.json'), true);
  return found;
}

const libraries = readdirSync(LIBS).filter((name) => existsSync(join(LIBS, name, 'package.json')));

describe.each(libraries)('@nest-hardening/%s', (library) => {
  it('installs only packages under a permissive licence', () => {
    const copyleft = [...installedWith(library)]
      .filter(([, license]) => !license.split(/ OR |[()]/).some((choice) => PERMISSIVE.has(choice.trim())))
      .map(([file, license]) => `${read(file).name}: ${license}`);
    expect(copyleft).toEqual([]);
  });
});
