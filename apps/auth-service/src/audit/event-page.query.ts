import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, ValidateBy } from 'class-validator';

import { IsPageLimit } from '../paging/page-limit.decorator';

/** The largest event id (a Postgres bigint): a longer cursor would fail in the query, not here. */
const MAX_EVENT_ID = 9_223_372_036_854_775_807n;

/** `?cursor=&limit=` of an event listing: the cursor is the id the previous page ended at. */
export class EventPageQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page', pattern: '^[0-9]{1,19}$' })
  @IsOptional()
  @ValidateBy(
    {
      name: 'isEventCursor',
      validator: {
        validate: (value: unknown) => typeof value === 'string' && /^[0-9]{1,19}$/.test(value) && BigInt(value) <= MAX_EVENT_ID,
      },
    },
    { message: 'cursor must be a cursor returned by this route' },
  )
  cursor?: string;

  @IsPageLimit()
  limit?: number;
}
