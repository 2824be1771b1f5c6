#!/usr/bin/env node
// Keeps the publishable packages in libs/ consistent: copies the root LICENSE into each, and fails
// when a package.json field drifts (version, entry points, files) or when the @nest-hardening
// dependencies and the tsconfig project references disagree. With --check-dist (after a build) it
// also fails when built code requires a package its package.json does not declare.
'use strict';
const { builtinModules } = require('node:module');
const { copyFileSync, existsSync, readdirSync, readFileSync } = require('node:fs');
const { join, relative } = require('node:path');

const ts = require('typescript');

const root = join(__dirname, '..');
const rootPkg = require(join(root, 'package.json'));
const checkDist = process.argv.includes('--check-dist');
// Types only an Express app has anyway (@types/express); never required at run time.
const TYPE_ONLY_ALLOWED = new Set(['express']);
const errors = [];

function publishablePackages() {
  return readdirSync(join(root, 'libs'))
    .filter((name) => existsSync(join(root, 'libs', name, 'package.json')))
    .map((name) => ({ name, dir: join(root, 'libs', name), pkg: require(join(root, 'libs', name, 'package.json')) }))
    .filter(({ pkg }) => !pkg.private);
}

function expectEqual(where, actual, expected) {
  if (JSON.stringify(actual) !== JSON.stringify(expected)) {
    errors.push(`${where}: ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)}`);
  }
}

function filesUnder(dir, suffix) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesUnder(join(dir, entry.name), suffix) : entry.name.endsWith(suffix) ? [join(dir, entry.name)] : [],
  );
}

/**
 * The `@types/...` package a declaration file's import resolves to, as an adopter's tsc resolves it,
 * or undefined when the imported package ships its own types.
 */
function typesPackageOf(specifier, file) {
  const options = { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 };
  const name = ts.resolveModuleName(specifier, file, options, ts.sys).resolvedModule?.packageId?.name;
  return name?.startsWith('@types/') ? name : undefined;
}

function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

for (const { name, dir, pkg } of publishablePackages()) {
  const at = `libs/${name}/package.json`;
  copyFileSync(join(root, 'LICENSE'), join(dir, 'LICENSE'));
  expectEqual(`${at} name`, pkg.name, `@nest-hardening/${name}`);
  expectEqual(`${at} version`, pkg.version, rootPkg.version);
  expectEqual(`${at} license`, pkg.license, 'MIT');
  expectEqual(`${at} main`, pkg.main, 'dist/index.js');
  expectEqual(`${at} types`, pkg.types, 'dist/index.d.ts');
  expectEqual(`${at} exports["."]`, pkg.exports?.['.'], {
    types: './dist/index.d.ts',
    require: './dist/index.js',
    default: './dist/index.js',
  });
  expectEqual(`${at} files`, pkg.files, ['dist', 'README.md', 'LICENSE']);
  expectEqual(`${at} sideEffects`, pkg.sideEffects, false);
  if (!pkg.description) errors.push(`${at}: no description`);
  if (!existsSync(join(dir, 'README.md'))) errors.push(`libs/${name}: no README.md`);

  const internal = Object.keys(pkg.dependencies ?? {}).filter((dep) => dep.startsWith('@nest-hardening/'));
  for (const dep of internal) expectEqual(`${at} dependencies["${dep}"]`, pkg.dependencies[dep], rootPkg.version);
  const tsconfig = JSON.parse(readFileSync(join(dir, 'tsconfig.build.json'), 'utf8'));
  const references = (tsconfig.references ?? []).map((ref) => `@nest-hardening/${ref.path.split('/')[1]}`);
  expectEqual(`libs/${name}/tsconfig.build.json references`, [...references].sort(), [...internal].sort());

  if (!checkDist) continue;
  const declared = new Set([...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]);
  const dist = join(dir, 'dist');
  if (!existsSync(dist)) {
    errors.push(`libs/${name}: not built (no dist/)`);
    continue;
  }
  const uses = [
    ...filesUnder(dist, '.js').map((file) => ({ file, pattern: /require\("([^".][^"]*)"\)/g })),
    ...filesUnder(dist, '.d.ts').map((file) => ({ file, pattern: /(?:from |import\()["']([^"'.][^"']*)["']/g })),
  ];
  for (const { file, pattern } of uses) {
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(pattern)) {
      const used = packageOf(specifier);
      if (used.startsWith('node:') || builtinModules.includes(used) || used === pkg.name) continue;
      if (file.endsWith('.d.ts') && TYPE_ONLY_ALLOWED.has(used)) continue;
      // Declarations that import an untyped dependency need its @types package where the adopter's
      // tsc runs: without it, the import fails there (or, under skipLibCheck, silently becomes `any`).
      // A peer's types are the app's, matching the version the app installs (as for `express`).
      const types = file.endsWith('.d.ts') && pkg.dependencies?.[used] ? typesPackageOf(specifier, file) : undefined;
      if (types && !declared.has(types)) errors.push(`${relative(root, file)} needs ${types} for "${specifier}", not declared in ${at}`);
      if (declared.has(used)) continue;
      errors.push(`${relative(root, file)} uses "${specifier}", not declared in ${at}`);
    }
  }
}

if (errors.length > 0) {
  console.error([...new Set(errors)].join('\n'));
  process.exit(1);
}
