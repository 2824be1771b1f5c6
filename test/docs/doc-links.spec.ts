import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ROOT = join(__dirname, '../..');

/** Every Markdown file of the repository (tracked or new), not what build or install steps put there. */
const markdownFiles = execFileSync('git', ['ls-files', '--cached', '--others', '--exclude-standard', '*.md'], {
  cwd: ROOT,
  encoding: 'utf8',
})
  .split('\n')
  .filter((file) => file.length > 0 && existsSync(join(ROOT, file)));

describe('links between the docs', () => {
  it.each(markdownFiles)('%s links only to files and folders that exist', (file) => {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const broken = [...text.matchAll(/\]\(([^)\s]+)\)/g)]
      .map((match) => match[1])
      .filter((target) => !/^[a-z]+:/i.test(target) && !target.startsWith('#'))
      .filter((target) => !existsSync(join(ROOT, dirname(file), decodeURIComponent(target.split('#')[0]))));
    expect(broken).toEqual([]);
  });
});
