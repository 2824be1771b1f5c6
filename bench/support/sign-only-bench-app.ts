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
import { JwtModule, JwtService } from '@nestjs/jwt';
import { IsString, MaxLength } from 'class-validator';

import { configureHttpApp, ExpressHttpAdapter } from '@nest-hardening/http-app';

class SignDto {
  @IsString()
  @MaxLength(256)
  refreshToken!: string;
}

const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

@Controller()
class SignController {
  constructor(private readonly jwt: JwtService) {}

  @Post('sign')
  @HttpCode(200)
  sign(@Body() body: SignDto) {
    const accessToken = this.jwt.sign(
      { sid: 'AAAAAAAAAAAAAAAAAAAAAA', role: 'user' },
      {
        privateKey: privateKey as unknown as string,
        algorithm: 'ES256',
        keyid: 'bench',
        subject: randomUUID(),
        jwtid: randomUUID(),
        issuer: 'auth-service',
        audience: 'payments-api',
        expiresIn: 900,
      },
    );
    return { accessToken, refreshToken: body.refreshToken, tokenType: 'Bearer', expiresIn: 900 };
  }
}

@Module({ imports: [JwtModule.register({})], controllers: [SignController] })
class SignOnlyModule {}

async function main(): Promise<void> {
  const app = await NestFactory.create(SignOnlyModule, new ExpressHttpAdapter(), { bodyParser: false, logger: ['error'] });
  configureHttpApp(app, { trustedProxies: ['loopback'], parseBodies: true });
  await app.listen(Number(process.env.PORT), '127.0.0.1');
}

void main();
