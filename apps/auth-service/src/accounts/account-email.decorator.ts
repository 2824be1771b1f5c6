import { applyDecorators } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import { ValidateBy } from 'class-validator';

import { isAccountEmail, isNewAccountEmail, MAX_EMAIL_LENGTH } from './account-email';

/**
 * An account email, by the same definition the lockout counts attempts with: an address that can
 * register can also be locked (a looser validator let quoted local parts register uncounted).
 * `newAccount`: one that mail delivers as written, too (registration); logins and look-ups take
 * every spelling an account may have been registered with.
 */
export const IsAccountEmail = ({ newAccount = false }: { newAccount?: boolean } = {}) =>
  applyDecorators(
    ApiProperty({ example: 'ada@example.com', maxLength: MAX_EMAIL_LENGTH }),
    ValidateBy({
      name: 'accountEmail',
      validator: {
        validate: (value: unknown) => (newAccount ? isNewAccountEmail(value) : isAccountEmail(value)),
        defaultMessage: () => `email must be an email address of at most ${MAX_EMAIL_LENGTH} characters`,
      },
    }),
  );
