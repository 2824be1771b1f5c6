import { Controller, Get, Header } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { JWKS_CACHE_CONTROL, JWKS_RESPONSE_SCHEMA, Public } from '@nest-hardening/auth';
import { SkipRateLimit } from '@nest-hardening/rate-limit';

import { SigningKeyService } from './signing-key.service';

@ApiTags('keys')
@Public()
@SkipRateLimit()
@Controller('.well-known')
export class JwksController {
  constructor(private readonly keys: SigningKeyService) {}

  /** Public keys that verify access tokens, by `kid`. Other services fetch and cache this. */
  @Get('jwks.json')
  @Header('Cache-Control', JWKS_CACHE_CONTROL)
  @ApiOkResponse({ description: 'JSON Web Key Set (RFC 7517)', schema: JWKS_RESPONSE_SCHEMA })
  jwks(): { keys: unknown[] } {
    return { keys: this.keys.publicJwks() };
  }
}
