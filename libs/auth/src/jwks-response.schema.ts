import type { SchemaObject } from '@nestjs/swagger';

/** OpenAPI schema of a JWKS answer (RFC 7517): the public members of each key, as published. */
export const JWKS_RESPONSE_SCHEMA: SchemaObject = {
  type: 'object',
  required: ['keys'],
  properties: {
    keys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['kty', 'kid'],
        properties: {
          kty: { type: 'string', example: 'EC' },
          crv: { type: 'string', example: 'P-256' },
          x: { type: 'string' },
          y: { type: 'string' },
          kid: { type: 'string' },
          alg: { type: 'string', example: 'ES256' },
          use: { type: 'string', example: 'sig' },
        },
      },
    },
  },
};
