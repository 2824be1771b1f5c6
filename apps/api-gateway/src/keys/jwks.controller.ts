import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { JWKS_CACHE_CONTROL, JWKS_RESPONSE_SCHEMA, Public, PublicKeyStore } from '@nest-hardening/auth';
import { SkipRateLimit } from '@nest-hardening/rate-limit';

/**
 * The JWKS at the edge, for third-party verifiers that only reach the gateway. It republishes the
 * keys the gateway itself accepts, read from auth-service at most once per refetch cooldown, so a
 * flood here costs auth-service no more than a flood of unknown `kid`s does.
 */
@ApiTags('keys')
@Public()
@SkipRateLimit()
@Controller('.well-known')
export class GatewayJwksController {
  constructor(private readonly keys: PublicKeyStore) {}

  @Get('jwks.json')
  @Header('Cache-Control', JWKS_CACHE_CONTROL)
  @ApiOkResponse({ description: 'JSON Web Key Set (RFC 7517): the keys that verify access tokens', schema: JWKS_RESPONSE_SCHEMA })
  async jwks(): Promise<{ keys: unknown[] }> {
    return { keys: await this.keys.publicJwks() };
  }
}
