import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const LIBS = join(__dirname, '../../libs');

interface PackageJson {
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

/** The backticked names in the README's sentence that starts with `lead`, or undefined without one. */
function namesAfter(readme: string, lead: RegExp): string[] | undefined {
  const sentence = lead.exec(readme)?.[1];
  return sentence === undefined ? undefined : [...sentence.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort();
}

const packages = readdirSync(LIBS).filter((name) => existsSync(join(LIBS, name, 'README.md')));

/** What each package README tells an adopter npm will install with the package: its peer dependencies. */
describe.each(packages)('libs/%s/README.md', (name) => {
  const readme = readFileSync(join(LIBS, name, 'README.md'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(LIBS, name, 'package.json'), 'utf8')) as PackageJson;
  const optional = (dep: string) => pkg.peerDependenciesMeta?.[dep]?.optional === true;
  const peers = Object.keys(pkg.peerDependencies ?? {});

  it('names exactly the required and the optional peer dependencies of package.json', () => {
    const required = namesAfter(readme, /npm installs its peer dependencies \(([^)]*)\)/);
    if (required !== undefined) expect(required).toEqual(peers.filter((dep) => !optional(dep)).sort());
    expect(namesAfter(readme, /Optional: ([^.\n]*)/) ?? []).toEqual(peers.filter(optional).sort());
  });
});
