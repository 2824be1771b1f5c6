import { randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';

import { Controller, Get, Module, type ModuleMetadata, type Provider } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { sign } from 'jsonwebtoken';

import { AccessTokenGuard } from '../../src/access-token.guard';
import { AuthModule } from '../../src/auth.module';
import type { AuthModuleOptions } from '../../src/auth.module-definition';
import { withLowS } from '../../src/es256-signature';
import { SessionValidator } from '../../src/session-validator.port';

/** Placeholder route behind the guard: only the status code matters. */
@Controller()
class ProbeController {
  @Get('probe')
  probe(): string {
    return 'ok';
  }
}

// Every session is live: these specs are about signatures only (the session check runs on cache
// hits and misses alike, so it cannot mask a stale verification). @nest-hardening/sessions depends
// on this library, so its real store cannot be used here.
@Module({ providers: [{ provide: SessionValidator, useValue: { isActive: () => true } }], exports: [SessionValidator] })
class LiveSessions {}

/**
 * A module whose `GET /probe` is behind the token guard (issuer `iss`, audience `aud`), reading its
 * keys from `publicKeys`; `extra` adds the spec's own imports and providers.
 */
export function guardedProbeModule(
  publicKeys: () => JsonWebKey[],
  options: Partial<AuthModuleOptions> = {},
  extra: { imports?: ModuleMetadata['imports']; providers?: Provider[] } = {},
): Promise<TestingModule> {
  return Test.createTestingModule({
    imports: [
      ...(extra.imports ?? []),
      { module: LiveSessions, global: true },
      AuthModule.forRoot({ issuer: 'iss', audience: 'aud', publicKeys, ...options }),
    ],
    controllers: [ProbeController],
    providers: [{ provide: APP_GUARD, useExisting: AccessTokenGuard }, ...(extra.providers ?? [])],
  }).compile();
}

/** A fresh access token for `iss`/`aud`, signed by `privateKey` under `kid`. */
export function signedToken(privateKey: KeyObject, kid: string, role = 'user'): string {
  return withLowS(
    sign({ sub: randomUUID(), sid: 'sid-1', role, jti: randomUUID() }, privateKey, {
      algorithm: 'ES256',
      keyid: kid,
      issuer: 'iss',
      audience: 'aud',
      expiresIn: 900,
    }),
  );
}
