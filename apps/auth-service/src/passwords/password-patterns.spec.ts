import { comparisonForm } from './password-comparison-form';
import { isRepetitiveOrSequential } from './password-patterns';

const pattern = (password: string) => isRepetitiveOrSequential(comparisonForm(password), 12);

describe('isRepetitiveOrSequential', () => {
  it.each([
    ['aaaaaaaaaaaa', 'one character'],
    [' '.repeat(12), 'twelve spaces'],
    ['abababababab', 'two characters alternating'],
    ['abbabaabbaba', 'two characters in any order'],
    ['bananananana', 'three different characters'],
    ['abcabcabcabc', 'a block of three repeated'],
    ['Summer2024!Summer2024!', 'a block of eleven, twice'],
    ['passwordpasswordpass', 'a block repeated, ending part-way'],
    ['123456789012', 'digits counting up across 9 to 0'],
    ['abcdefghijkl', 'the alphabet'],
    ['ZYXWVUTSRQPO', 'the alphabet backwards, in capitals'],
    ['qwertyuiop12', 'a keyboard row, then two digits'],
    ['poiuytrewq00', 'a keyboard row backwards'],
    ['aaaabbbbccccdddd', 'runs of repeated characters'],
    ['abc123xyz789', 'short runs covering everything'],
    ['1111 2222 3333', 'runs with separators'],
  ])('refuses %j (%s)', (password) => {
    expect(pattern(password)).toBe(true);
  });

  it.each([
    ['correct horse battery staple', 'the test suite password'],
    ['a street party at the tower', "runs of three inside words ('tre', 'rty', 'wer')"],
    ['hello world hello world', 'a block as long as the minimum, twice'],
    ['correct horse correct horse', 'a long block, twice'],
    ['my pin is 123456789', 'a sequence under two thirds of the password'],
    ['mississippi river boat', 'few letters, but a sentence'],
    ['abc defence force', 'a short sequence at the start'],
    ['Tr0ub4dor&3xyz', 'mixed characters'],
    ['ünïcödé pässwörd', 'accented letters'],
    ['パスワードはとても長い', 'Japanese'],
  ])('accepts %j (%s)', (password) => {
    expect(pattern(password)).toBe(false);
  });
});
