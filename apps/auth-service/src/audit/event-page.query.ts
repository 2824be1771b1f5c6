import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, Matches } from 'class-validator';

import { IsPageLimit } from '../paging/page-limit.decorator';

/** `?cursor=&limit=` of an event listing: the cursor is the id the previous page ended at. */
export class EventPageQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page', pattern: '^[0-9]{1,19}$' })
  @IsOptional()
  @Matches(/^[0-9]{1,19}$/, { message: 'cursor must be a cursor returned by this route' })
  cursor?: string;

  @IsPageLimit()
  limit?: number;
}
