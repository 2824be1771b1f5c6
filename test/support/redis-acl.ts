import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The key prefix and password the documented rules are written with. */
const DOC_PREFIX = 'sec:';
const DOC_PASSWORD = 'PASSWORD';

/** The two `ACL SETUSER app` commands of docs/production.md ("Reaching Redis"), as rule lists. */
export interface DocumentedRedisAcl {
  /** Every app, on a single Redis and on every node of a cluster. */
  rules: string[];
  /** What a cluster adds. */
  clusterRules: string[];
}

/** Reads the rules from the doc itself, so that the tests hold the doc to what works. */
export function documentedRedisAcl(): DocumentedRedisAcl {
  const doc = readFileSync(join(__dirname, '../../docs/production.md'), 'utf8');
  const block = /```sh\n(redis-cli ACL SETUSER app [\s\S]*?)```/.exec(doc)?.[1];
  if (!block) throw new Error('docs/production.md has no ```sh block of `redis-cli ACL SETUSER app`');
  const commands = block
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim())
    .map((line) => {
      const words = line
        .trim()
        .split(/\s+/)
        .map((word) => word.replace(/^'(.*)'$/, '$1'));
      if (words.slice(0, 4).join(' ') !== 'redis-cli ACL SETUSER app') throw new Error(`not an ACL SETUSER of app: ${line}`);
      return words.slice(4);
    });
  if (commands.length !== 2) throw new Error(`expected two ACL SETUSER commands, found ${commands.length}`);
  return { rules: commands[0], clusterRules: commands[1] };
}

/** The commands a rule list grants (`+name`), lower case, sorted. */
export function grantedCommands(rules: readonly string[]): string[] {
  return rules
    .filter((rule) => rule.startsWith('+'))
    .map((rule) => rule.slice(1).toLowerCase())
    .sort();
}

/** `rules` for a user with this key prefix and password instead of the doc's `sec:` and `PASSWORD`. */
export function redisAclFor(rules: readonly string[], keyPrefix: string, password: string): string[] {
  return rules.map((rule) =>
    rule === `>${DOC_PASSWORD}` ? `>${password}` : /^[~&]/.test(rule) ? rule[0] + rule.slice(1).replace(DOC_PREFIX, keyPrefix) : rule,
  );
}
