import { applyDecorators } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsInt, IsOptional, Max, Min } from 'class-validator';

/** Items per page when a listing's `limit` is not given, and the most it may ask for. */
export const DEFAULT_PAGE_LIMIT = 20;
export const MAX_PAGE_LIMIT = 100;

/**
 * A page size as a query writes it, decimal digits only: only such a string becomes a number.
 * `Number()` would also read `0x10`, `1e2`, ` 5` or `0b11`; they stay strings and fail `IsInt` (400).
 */
const DECIMAL = /^[0-9]+$/;

/** The optional `?limit=` of every cursor-paginated listing: 1 to 100, default 20. */
export const IsPageLimit = () =>
  applyDecorators(
    ApiPropertyOptional({ minimum: 1, maximum: MAX_PAGE_LIMIT, default: DEFAULT_PAGE_LIMIT }),
    IsOptional(),
    Transform(({ value }: { value: unknown }) => (typeof value === 'string' && DECIMAL.test(value) ? Number(value) : value)),
    IsInt(),
    Min(1),
    Max(MAX_PAGE_LIMIT),
  );
