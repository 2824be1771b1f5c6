import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { IsString, ValidateBy } from 'class-validator';

import {
  hasAcceptablePasswordLength,
  PASSWORD_LENGTH_MESSAGE,
  PASSWORD_MAX_LENGTH,
  PASSWORD_MIN_LENGTH,
} from '../passwords/password-length';

/**
 * NIST SP 800-63B / ASVS password rules: 15 to 128 characters counted as Unicode code points of the
 * NFC form (`passwordLength`). No composition rules, and the whole value is hashed: nothing is
 * truncated, so a password that passes here is exactly the password that is checked later.
 */
export const IsAcceptablePassword = () =>
  applyDecorators(
    ApiProperty({ minLength: PASSWORD_MIN_LENGTH, maxLength: PASSWORD_MAX_LENGTH, format: 'password' }),
    IsString(),
    ValidateBy({
      name: 'passwordPolicy',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && hasAcceptablePasswordLength(value),
        defaultMessage: () => PASSWORD_LENGTH_MESSAGE,
      },
    }),
  );
