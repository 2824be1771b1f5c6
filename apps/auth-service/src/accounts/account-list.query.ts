import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';

import { IsPageLimit } from '../paging/page-limit.decorator';
import { IsAccountEmail } from './account-email.decorator';

/** `GET /accounts?email=` (one exact, normalised match) or `?status=&cursor=&limit=` (newest first). */
export class AccountListQuery {
  // @IsAccountEmail documents the field as required, as it is in bodies; here it is optional.
  @ApiPropertyOptional({
    description: 'finds the one account with this email (exact, normalised); with `status`, only if it has that status',
  })
  @IsOptional()
  @IsAccountEmail()
  email?: string;

  @ApiPropertyOptional({
    enum: ['locked', 'disabled'],
    description: 'narrows the listing (newest first) or the email match to accounts in this state',
  })
  @IsOptional()
  @IsIn(['locked', 'disabled'])
  status?: 'locked' | 'disabled';

  @ApiPropertyOptional({ description: 'nextCursor of the previous page', maxLength: 200 })
  @IsOptional()
  @Matches(/^[A-Za-z0-9_-]{1,200}$/, { message: 'cursor must be a cursor returned by this route' })
  cursor?: string;

  @IsPageLimit()
  limit?: number;
}
