import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, ValidateBy } from 'class-validator';

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 128;

/**
 * NIST SP 800-63B / ASVS password rules: 12 to 128 characters counted as Unicode code points
 * (an emoji is one character) of the NFC form, which is what is hashed: `é` typed as `e` plus a
 * combining accent is one character, or twelve decomposed letters would make a six-letter
 * password. No composition rules, and the whole value is hashed: nothing is truncated, so a
 * password that passes here is exactly the password that is checked later.
 */
export const IsAcceptablePassword = () =>
  applyDecorators(
    ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH, format: 'password' }),
    IsString(),
    ValidateBy({
      name: 'passwordPolicy',
      validator: {
        validate: (value: unknown) => {
          if (typeof value !== 'string') return false;
          const length = [...value.normalize('NFC')].length;
          return length >= PASSWORD_MIN_LENGTH && length <= PASSWORD_MAX_LENGTH;
        },
        defaultMessage: () => `password must be ${PASSWORD_MIN_LENGTH} to ${PASSWORD_MAX_LENGTH} characters long`,
      },
    }),
  );
