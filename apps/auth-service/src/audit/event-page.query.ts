import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsInt, IsOptional, Matches, Max, Min } from 'class-validator';

/** `?cursor=&limit=` of an event listing: the cursor is the id the previous page ended at. */
export class EventPageQuery {
  @ApiPropertyOptional({ description: 'nextCursor of the previous page', pattern: '^[0-9]{1,19}$' })
  @IsOptional()
  @Matches(/^[0-9]{1,19}$/, { message: 'cursor must be a cursor returned by this route' })
  cursor?: string;

  @ApiPropertyOptional({ minimum: 1, maximum: 100, default: 20 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(100)
  limit?: number;
}
