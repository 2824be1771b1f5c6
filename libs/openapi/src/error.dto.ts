import { ApiProperty, ApiPropertyOptional, ApiSchema } from '@nestjs/swagger';

/**
 * The one error body every app answers with (written by `DomainErrorFilter`, by the rate limiter's
 * and the lockout's exceptions, and by the gateway's proxy when a service is unreachable).
 */
@ApiSchema({ name: 'Error', description: 'Every error answer: `{statusCode, message, error?, retryAfter?}`, nothing else.' })
export class ErrorDto {
  @ApiProperty({ type: 'integer', minimum: 400, maximum: 599, example: 400, description: 'the HTTP status, repeated' })
  statusCode!: number;

  @ApiProperty({
    oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }],
    description: 'safe to show; a list for request validation errors (one entry per problem), a string otherwise',
    example: ['password must be 15 to 128 characters long'],
  })
  message!: string | string[];

  @ApiPropertyOptional({
    description: 'a stable code for domain errors (e.g. `email_taken`), or the HTTP reason phrase (e.g. `Bad Request`)',
    example: 'Bad Request',
  })
  error?: string;

  @ApiPropertyOptional({ type: 'integer', minimum: 0, description: 'seconds to wait before retrying; the same as the Retry-After header' })
  retryAfter?: number;
}

/** The name `ErrorDto` has in `components.schemas`. */
export const ERROR_SCHEMA_NAME = 'Error';
