import { BadRequestException, Body, Controller, HttpCode, Injectable, Module, Post, UnauthorizedException, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { RedisModule } from '@nest-hardening/redis';
import { SecurityEvents, SecurityEventsModule } from '@nest-hardening/security-events';
import { applyTrustedProxies } from '@nest-hardening/client-ip';
import { deleteKeysWithPrefix, TEST_REDIS_URL, uniqueKeyPrefix } from '@nest-hardening/testing';
import { LockoutModule } from './lockout.module';
import { LockoutGuard } from './lockout.guard';
import { LockoutService } from './lockout.service';
import { LoginReservation } from './login-reservation.decorator';
import { normalizeLoginEmail } from './lockout.email';
import type { LockoutModuleOptions } from './lockout-options.interface';
import type { LockoutReservation } from './lockout-reservation.interface';

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

@Controller()
class LoginController {
  constructor(
    private readonly checker: PasswordChecker,
    private readonly lockout: LockoutService,
  ) {}

  @Post('login')
  @HttpCode(200)
  @UseGuards(LockoutGuard)
  async login(@Body() body: { email?: unknown; password?: unknown }, @LoginReservation() reservation?: LockoutReservation) {
    if (typeof body.email !== 'string' || typeof body.password !== 'string') throw new BadRequestException();
    if (!(await this.checker.verify(body.email, body.password))) {
      await this.lockout.recordFailure(reservation);
      throw new UnauthorizedException('Invalid email or password');
    }
    await this.lockout.recordSuccess(reservation);
    return { ok: true };
  }
}

export interface LoginTestApp {
  app: INestApplication;
  lockout: LockoutService;
  events: SecurityEvents;
  verifications(): number;
  login(email: string, password: string, ip: string): Promise<request.Response>;
  close(): Promise<void>;
}

/**
 * A real Nest app on 127.0.0.1:<random> with Redis, SecurityEvents, LockoutModule and a fake login
 * route. Addresses are simulated with `X-Forwarded-For` from the trusted loopback proxy. Apps given
 * the same `keyPrefix` share their lockout state (instances of one service). With `clusterNodes`
 * it runs on that Redis Cluster instead, which the caller owns and stops.
 */
export async function startLoginTestApp(
  {
    keyPrefix = uniqueKeyPrefix('lockout'),
    clusterNodes,
    ...options
  }: Omit<LockoutModuleOptions, 'keySecret'> & { keySecret?: string; keyPrefix?: string; clusterNodes?: string[] },
  accounts: string[],
  sentryDsn?: string,
): Promise<LoginTestApp> {
  @Module({ imports: [LockoutModule.forRoot({ keySecret: 'test-key-secret', ...options })], controllers: [LoginController], providers: [PasswordChecker] })
  class LoginTestModule {}

  const moduleRef = await Test.createTestingModule({
    imports: [
      RedisModule.forRoot({ url: TEST_REDIS_URL, clusterNodes, keyPrefix, commandTimeoutMs: 2000, connectionName: 'lockout-test', isGlobal: true }),
      SecurityEventsModule.forRoot({ service: 'lockout-test', pseudonymKey: 'test-pseudonym-key', sentryDsn, isGlobal: true }),
      LoginTestModule,
    ],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  applyTrustedProxies(app, ['loopback']);
  await app.listen(0, '127.0.0.1');
  const checker = app.get(PasswordChecker);
  for (const email of accounts) checker.accounts.add(normalizeLoginEmail(email));
  const server = app.getHttpServer();
  return {
    app,
    lockout: app.get(LockoutService),
    events: app.get(SecurityEvents),
    verifications: () => checker.verifications,
    login: (email, password, ip) =>
      request(server).post('/login').set('X-Forwarded-For', ip).set('User-Agent', 'LockoutTest/1.0').send({ email, password }),
    async close() {
      await app.close();
      if (!clusterNodes) await deleteKeysWithPrefix(keyPrefix);
    },
  };
}
