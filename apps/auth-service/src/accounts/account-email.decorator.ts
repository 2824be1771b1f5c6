import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';

import { isAccountEmail, MAX_EMAIL_LENGTH } from './account-email';

/**
 * An account email, by the same definition the lockout counts attempts with: an address that can
 * register can also be locked (a looser validator let quoted local parts register uncounted).
 */
export const IsAccountEmail = () =>
  applyDecorators(
    ApiProperty({ example: 'ada@example.com', maxLength: MAX_EMAIL_LENGTH }),
    ValidateBy({
      name: 'accountEmail',
      validator: {
        validate: (value: unknown) => isAccountEmail(value),
        defaultMessage: () => `email must be an email address of at most ${MAX_EMAIL_LENGTH} characters`,
      },
    }),
  );
