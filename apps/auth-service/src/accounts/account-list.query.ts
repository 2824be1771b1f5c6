import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsIn, IsOptional, Matches } from 'class-validator';

import { IsPageLimit } from '../paging/page-limit.decorator';
import { IsAccountEmail } from './account-email.decorator';

/** `GET /accounts?email=` (one exact, normalised match) or `?status=&cursor=&limit=` (newest first). */
export class AccountListQuery {
  // @IsAccountEmail documents the field as required, as it is in bodies; here it is optional.
  @ApiPropertyOptional()
  @IsOptional()
  @IsAccountEmail()
  email?: string;

  @ApiPropertyOptional({ enum: ['locked', 'disabled'] })
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
