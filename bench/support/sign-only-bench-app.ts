/**
 * Baseline app for bench:refresh: the same HTTP stack as auth-service (configureHttpApp: JSON body,
 * validation, error filter) with one route that takes a refresh-token-shaped body and answers with
 * a freshly signed ES256 access token, as a refresh does, but without any session work.
 * Started as a child process with PORT set.
 */
import 'reflect-metadata';

import { generateKeyPairSync, randomUUID } from 'node:crypto';

import { Body, Controller, HttpCode, Module, Post } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { IsString, MaxLength } from 'class-validator';

import { es256JwtHeader, signEs256Jwt } from '@nest-hardening/auth';
import { configureHttpApp, ExpressHttpAdapter } from '@nest-hardening/http-app';

class SignDto {
  @IsString()
  @MaxLength(256)
  refreshToken!: string;
}

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

const header = es256JwtHeader('bench');

@Controller()
class SignController {
  @Post('sign')
  @HttpCode(200)
  sign(@Body() body: SignDto) {
    // Signed as auth-service signs access tokens (AccessTokenIssuer), with the same claims.
    const iat = Math.floor(Date.now() / 1000);
    const claims = {
      sub: randomUUID(),
      sid: 'AAAAAAAAAAAAAAAAAAAAAA',
      role: 'user',
      jti: randomUUID(),
      iat,
      exp: iat + 900,
      iss: 'auth-service',
      aud: 'payments-api',
    };
    const accessToken = signEs256Jwt(header, claims, privateKey);
    return { accessToken, refreshToken: body.refreshToken, tokenType: 'Bearer', expiresIn: 900 };
  }
}

@Module({ controllers: [SignController] })
class SignOnlyModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(SignOnlyModule, new ExpressHttpAdapter(), { bodyParser: false, logger: ['error'] });
  configureHttpApp(app, { trustedProxies: ['loopback'], parseBodies: true });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
}

void main();
