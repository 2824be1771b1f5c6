import {
  BadRequestException,
  Body,
  Controller,
  HttpCode,
  Injectable,
  Module,
  Post,
  UnauthorizedException,
  type INestApplication,
  type Provider,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';

import { applyTrustedProxies } from '@nest-hardening/client-ip';
import { DomainErrorFilter } from '@nest-hardening/errors';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEvents, SecurityEventsModule } from '@nest-hardening/security-events';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';

import { InvalidCredentialsError } from '../../src/invalid-credentials.error';
import type { LockoutModuleOptions } from '../../src/lockout-options.interface';
import { LockoutProtected } from '../../src/lockout-protected.decorator';
import { normalizeLoginEmail } from '../../src/lockout.email';
import { LockoutModule } from '../../src/lockout.module';
import { LockoutService } from '../../src/lockout.service';
import { LoginAttempt } from '../../src/login-attempt.decorator';

/** The one password every test account has. */
export const TEST_PASSWORD = 'correct horse battery staple';

/** Counts password verifications, the work lockout must spare for locked pairs. */
@Injectable()
class PasswordChecker {
  verifications = 0;
  accounts = new Set<string>();

  async verify(email: string, password: string): Promise<boolean> {
    this.verifications += 1;
    // Stands in for argon2: slow enough that concurrent requests overlap. Unknown emails do the same work.
    await new Promise((resolve) => setTimeout(resolve, 25));
    return this.accounts.has(normalizeLoginEmail(email)) && password === TEST_PASSWORD;
  }
}

type LoginBody = { email?: unknown; password?: unknown };

function credentials(body: LoginBody): { email: string; password: string } {
  if (typeof body.email !== 'string' || typeof body.password !== 'string') throw new BadRequestException();
  return { email: body.email, password: body.password };
}

@Controller()
class LoginController {
  constructor(private readonly checker: PasswordChecker) {}

  /** The recommended wiring: the outcome is what the handler returns or throws. */
  @Post('login')
  @HttpCode(200)
  @LockoutProtected()
  async login(@Body() body: LoginBody) {
    const { email, password } = credentials(body);
    if (!(await this.checker.verify(email, password))) throw new InvalidCredentialsError();
    return { ok: true };
  }

  /** A handler that reports the outcome itself and answers with its own exception. */
  @Post('login-reporting')
  @HttpCode(200)
  @LockoutProtected()
  async loginReporting(@Body() body: LoginBody, @LoginAttempt() attempt: LoginAttempt) {
    const { email, password } = credentials(body);
    if (!(await this.checker.verify(email, password))) {
      await attempt.failed();
      throw new UnauthorizedException('Invalid email or password');
    }
    await attempt.succeeded();
    return { ok: true };
  }
}

export interface LoginTestApp {
  app: INestApplication;
  lockout: LockoutService;
  events: SecurityEvents;
  verifications(): number;
  /** `path`: `/login` (throws InvalidCredentialsError) or `/login-reporting` (uses its LoginAttempt). */
  login(email: string, password: string, ip: string, path?: string, userAgent?: string): Promise<request.Response>;
  close(): Promise<void>;
}

/**
 * A real Nest app on 127.0.0.1:<random> with Redis, SecurityEvents, LockoutModule and a fake login
 * route. Addresses are simulated with `X-Forwarded-For` from the trusted loopback proxy. Apps given
 * the same `keyPrefix` share their lockout state (instances of one service). With `clusterNodes`
 * it runs on that Redis Cluster instead, which the caller owns and stops. With `store: 'memory'`
 * it has no RedisModule at all, as an adopter's unit test would build it.
 */
export async function startLoginTestApp(
  {
    keyPrefix = uniqueKeyPrefix('lockout'),
    clusterNodes,
    redisUrl = TEST_REDIS_URL,
    commandTimeoutMs = 2000,
    controllers = [],
    providers = [],
    ...options
  }: Omit<LockoutModuleOptions, 'keySecret'> & {
    keySecret?: string;
    keyPrefix?: string;
    clusterNodes?: string[];
    /** A Redis of the test's own (default: the shared test Redis), and its client's command timeout. */
    redisUrl?: string;
    commandTimeoutMs?: number;
    /** More routes and providers beside the login routes (wiring tests). */
    controllers?: Type<unknown>[];
    providers?: Provider[];
  },
  accounts: string[],
  sentryDsn?: string,
): Promise<LoginTestApp> {
  @Module({
    imports: [LockoutModule.forRoot({ keySecret: 'test-key-secret', ...options })],
    controllers: [LoginController, ...controllers],
    providers: [PasswordChecker, ...providers],
  })
  class LoginTestModule {}

  const onRedis = options.store !== 'memory';
  const cleanUp = async () => {
    if (onRedis && !clusterNodes) await deleteKeysWithPrefix(keyPrefix);
  };
  const moduleRef = await Test.createTestingModule({
    imports: [
      ...(onRedis
        ? [
            RedisModule.forRoot({
              url: redisUrl,
              clusterNodes,
              keyPrefix,
              commandTimeoutMs,
              connectionName: 'lockout-test',
              isGlobal: true,
            }),
          ]
        : []),
      SecurityEventsModule.forRoot({ service: 'lockout-test', pseudonymKey: 'test-pseudonym-key', sentryDsn, isGlobal: true }),
      LoginTestModule,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  applyTrustedProxies(app, ['loopback']);
  app.useGlobalFilters(new DomainErrorFilter());
  try {
    await app.listen(0, '127.0.0.1');
  } catch (error) {
    await app.close();
    await cleanUp();
    throw error;
  }
  const checker = app.get(PasswordChecker);
  for (const email of accounts) checker.accounts.add(normalizeLoginEmail(email));
  const server = app.getHttpServer();
  return {
    app,
    lockout: app.get(LockoutService),
    events: app.get(SecurityEvents),
    verifications: () => checker.verifications,
    login: (email, password, ip, path = '/login', userAgent = 'LockoutTest/1.0') =>
      request(server).post(path).set('X-Forwarded-For', ip).set('User-Agent', userAgent).send({ email, password }),
    async close() {
      await app.close();
      await cleanUp();
    },
  };
}
