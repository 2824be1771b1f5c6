import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

import { Redis } from 'ioredis';

import { documentedRedisAcl, grantedCommands } from '../support';

const ROOT = join(__dirname, '../..');

/** Every source file the apps run: apps/*\/src and libs/*\/src, without specs and the testing library. */
function sourceFiles(): string[] {
  return ['apps', 'libs'].flatMap((top) =>
    readdirSync(join(ROOT, top))
      .filter((name) => `${top}/${name}` !== 'libs/testing' && existsSync(join(ROOT, top, name, 'src')))
      .flatMap((name) => {
        const src = join(ROOT, top, name, 'src');
        return readdirSync(src, { recursive: true, encoding: 'utf8' })
          .filter((file) => file.endsWith('.ts') && !file.endsWith('.spec.ts'))
          .map((file) => join(src, file));
      }),
  );
}

/** What ioredis sends by itself (none of it is in the sources): `connectionName`, the ready check. */
const CLIENT_INTERNALS = ['client|setname', 'info'];
/** A cluster client's slot map, its ready check, and the redirection of a slot being moved. */
const CLUSTER_INTERNALS = ['asking', 'cluster|info', 'cluster|slots'];
/** QUIT (on shutdown) is answered for every user: an ACL cannot refuse it. */
const ALWAYS_ALLOWED = new Set(['quit']);

/** The commands the apps issue: those the Lua scripts call, and those called on a Redis client. */
function commandsInSources(): Map<string, string[]> {
  const builtin = new Set(new Redis({ lazyConnect: true }).getBuiltinCommands());
  const used = new Map<string, string[]>();
  const add = (command: string, file: string) => {
    const name = command.toLowerCase();
    if (!ALWAYS_ALLOWED.has(name)) used.set(name, [...(used.get(name) ?? []), relative(ROOT, file)]);
  };
  for (const file of sourceFiles()) {
    const text = readFileSync(file, 'utf8');
    for (const [, command] of text.matchAll(/redis\.p?call\(\s*['"](\w+)['"]/g)) add(command, file);
    for (const [, method] of text.matchAll(/\b(?:redis|client|subscriber|probe)\.(\w+)\(/g)) if (builtin.has(method)) add(method, file);
  }
  return used;
}

/**
 * docs/production.md gives the ACL rules of the apps' Redis user: they must grant every command
 * the apps issue, and nothing else. test/e2e/redis-acl.e2e-spec.ts runs the system under them.
 */
describe('the documented Redis ACL (docs/production.md)', () => {
  const acl = documentedRedisAcl();

  it('grants exactly the commands the sources issue, and what ioredis sends by itself', () => {
    const used = commandsInSources();
    // The scan must see the scripts and the client calls: a regex that found nothing would pass anything.
    expect(used.get('time')).toEqual(['libs/redis/src/redis-now.lua.ts']);
    expect(used.has('evalsha') && used.has('subscribe') && used.has('ping')).toBe(true);

    expect(grantedCommands(acl.rules)).toEqual([...new Set([...used.keys(), ...CLIENT_INTERNALS])].sort());
    expect(grantedCommands(acl.clusterRules)).toEqual(CLUSTER_INTERNALS);
  });

  it('starts from nothing: no command, key or channel beyond those named', () => {
    expect(acl.rules.slice(0, 6)).toEqual(['on', '>PASSWORD', 'resetkeys', '~sec:*', 'resetchannels', '&sec:sessions:revoked']);
    expect(acl.rules[6]).toBe('-@all');
    expect(acl.rules.slice(7).every((rule) => /^\+[a-z]+(\|[a-z]+)?$/.test(rule))).toBe(true);
    expect(acl.clusterRules.every((rule) => /^\+[a-z]+(\|[a-z]+)?$/.test(rule))).toBe(true);
  });
});
