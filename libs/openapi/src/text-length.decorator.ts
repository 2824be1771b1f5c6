import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';

/** Characters as JSON Schema's `minLength`/`maxLength` count them: code points, not UTF-16 units. */
const codePoints = (value: string): number => [...value].length;

/**
 * The length limits of a string property, enforced and documented from one pair of numbers, so the
 * document's `minLength`/`maxLength` are the validator's. Counts code points (an emoji is one
 * character), as JSON Schema does; class-validator's `@MaxLength` counts UTF-16 units instead.
 * Only the length: combine with `@IsString()`.
 *
 * @example
 * @IsString()
 * @TextLength({ min: 1, max: 100 })
 * displayName!: string;
 */
export function TextLength({ min, max }: { min?: number; max: number }): PropertyDecorator {
  const range = min === undefined ? `at most ${max}` : `${min} to ${max}`;
  return applyDecorators(
    // Merged into the property's other @ApiProperty options; the type stays theirs.
    ApiProperty({ minLength: min, maxLength: max, type: undefined, required: undefined }),
    ValidateBy({
      name: 'textLength',
      constraints: [min, max],
      validator: {
        validate: (value: unknown) => typeof value === 'string' && codePoints(value) >= (min ?? 0) && codePoints(value) <= max,
        defaultMessage: (args) => `${args?.property ?? 'value'} must be ${range} characters long`,
      },
    }),
  );
}
