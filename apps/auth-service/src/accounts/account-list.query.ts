import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, Matches, Max, Min } from 'class-validator';
import { IsAccountEmail } from '../auth/account-email.decorator';

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

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}
