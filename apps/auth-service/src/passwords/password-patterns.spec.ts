import { comparisonForm } from './password-comparison-form';
import { PASSWORD_MIN_LENGTH } from './password-length';
import { isRepetitiveOrSequential } from './password-patterns';

const pattern = (password: string) => isRepetitiveOrSequential(comparisonForm(password), PASSWORD_MIN_LENGTH);

describe('isRepetitiveOrSequential', () => {
  it.each([
    ['aaaaaaaaaaaaaaa', 'one character'],
    [' '.repeat(15), 'fifteen spaces'],
    ['abababababababa', 'two characters alternating'],
    ['abbabaabbabaabb', 'two characters in any order'],
    ['bananananananan', 'three different characters'],
    ['abcabcabcabcabc', 'a block of three repeated'],
    ['Summer2024!Summer2024!', 'a block of eleven, twice'],
    ['correct horse correct horse ', 'a block of fourteen, twice'],
    ['passwordpasswordpass', 'a block repeated, ending part-way'],
    ['123456789012345', 'digits counting up across 9 to 0'],
    ['abcdefghijklmno', 'the alphabet'],
    ['ZYXWVUTSRQPONML', 'the alphabet backwards, in capitals'],
    ['qwertyuiopasdf12', 'keyboard rows, then two digits'],
    ['poiuytrewqlkj00', 'keyboard rows backwards, then two digits'],
    ['aaaabbbbccccdddd', 'runs of repeated characters'],
    ['abc123xyz789def', 'short runs covering everything'],
    ['1111 2222 3333 4444', 'runs with separators'],
  ])('refuses %j (%s)', (password) => {
    expect(pattern(password)).toBe(true);
  });

  it.each([
    ['correct horse battery staple', 'the test suite password'],
    ['a street party at the tower', "runs of three inside words ('tre', 'rty', 'wer')"],
    ['hello my world hello my world', 'a block as long as the minimum, twice'],
    ['correct horse battery correct horse battery', 'a long block, twice'],
    ['my pin is 123456789', 'a sequence under two thirds of the password'],
    ['mississippi river boat', 'few letters, but a sentence'],
    ['abc defence force', 'a short sequence at the start'],
    ['Tr0ub4dor&3xyz!', 'mixed characters'],
    ['ünïcödé pässwörd', 'accented letters'],
    ['パスワードはとても長いものです', 'Japanese'],
  ])('accepts %j (%s)', (password) => {
    expect(pattern(password)).toBe(false);
  });
});
