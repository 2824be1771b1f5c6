import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '../..');
const LIBS = join(ROOT, 'libs');

/**
 * Licences an MIT package may pull in without changing what its adopters may do. A copyleft one
 * (GPL, AGPL, LGPL) would bind every service that installs the package, which many companies'
 * policies forbid outright; ua-parser-js 2.x (AGPL-3.0) once came in this way.
 */
const PERMISSIVE = new Set(['MIT', 'MIT-0', 'ISC', 'BSD-2-Clause', 'BSD-3-Clause', 'Apache-2.0', '0BSD', 'BlueOak-1.0.0']);

interface PackageJson {
  name: string;
  license?: string;
  licenses?: { type: string }[];
  dependencies?: Record<string, string>;
}

const read = (file: string) => JSON.parse(readFileSync(file, 'utf8')) as PackageJson;

/** The package.json Node would load for `name` from `dir`, walking up the node_modules folders. */
function resolvePackage(name: string, dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    const candidate = join(at, 'node_modules', name, 'package.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(at) === at) throw new Error(`${name} is not installed (from ${dir})`);
  }
}

/** Every package a library installs with it (its dependencies, transitively), with its licence. */
function installedWith(library: string): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (file: string) => {
    const pkg = read(file);
    for (const dep of Object.keys(pkg.dependencies ?? {})) {
      if (dep.startsWith('@nest-hardening/')) continue; // checked as a library of its own
      const depFile = resolvePackage(dep, dirname(file));
      if (found.has(depFile)) continue;
      const depPkg = read(depFile);
      found.set(depFile, depPkg.license ?? depPkg.licenses?.map((l) => l.type).join(' OR ') ?? 'none');
      visit(depFile);
    }
  };
  visit(join(LIBS, library, 'package.json'));
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
