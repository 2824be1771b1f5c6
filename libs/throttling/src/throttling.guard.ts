import { type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request, Response } from 'express';
import { clientIp, rateLimitIpKey } from '@lib/client-ip';
import {
  RATE_LIMIT_POLICIES,
  RATE_LIMIT_POLICIES_METADATA,
  SKIP_RATE_LIMIT_METADATA,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TTL,
} from './throttling.constants';
import { rateLimitHeaders, retryAfterSeconds } from './throttling.headers';
import { ipTracker, userTracker } from './throttling.keys';
import { RateLimiter, type PolicyCharge } from './throttling.limiter';
import { THROTTLING_MODULE_OPTIONS, type ThrottlingModuleOptions } from './throttling.module-definition';
import type { RateLimitPolicyDefinition } from './throttling.policy';
import { RateLimitExceededException } from './throttling.rate-limit-exceeded.exception';
import { RateLimitUnavailableException } from './throttling.rate-limit-unavailable.exception';

type Resolvable = number | string | ((context: ExecutionContext) => number | string | Promise<number | string>);

/**
 * Rate-limit guard: every policy that applies to a request is checked and charged in one atomic
 * Redis call (one budget per tracker and policy, shared by all routes; unlike the stock guard the
 * key never contains the handler). Register it yourself, after the guard that verifies the access
 * token and sets `req.user`:
 *
 * @example
 * providers: [
 *   { provide: APP_GUARD, useClass: JwtAuthGuard },   // sets req.user from a verified token
 *   { provide: APP_GUARD, useClass: RateLimitGuard },
 * ]
 *
 * Honoured decorators: `@SkipRateLimit()` (skips everything), `@RateLimitPolicy(name)` (opt-in
 * policies), stock `@Throttle({ name: { limit, ttl } })` (per-route limit/ttl of a policy; other
 * fields are ignored) and stock `@SkipThrottle({ name: true })`. Stock `@SkipThrottle()` without
 * argument (which means `{ default: true }`) skips the all-routes policies only: opt-in policies
 * a route asks for explicitly, such as `auth` on login, keep applying, so a blanket skip copied
 * from older code cannot silently disable brute-force protection. Only HTTP requests are limited.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  constructor(
    @InjectThrottlerOptions() options: ThrottlerModuleOptions,
    @InjectThrottlerStorage() storage: ThrottlerStorage,
    @Inject(Reflector) reflector: Reflector,
    @Inject(RATE_LIMIT_POLICIES) private readonly policies: readonly RateLimitPolicyDefinition[],
    @Inject(THROTTLING_MODULE_OPTIONS) private readonly moduleOptions: ThrottlingModuleOptions,
    @Inject(RateLimiter) private readonly limiter: RateLimiter,
  ) {
    super(options, storage, reflector);
  }

  override async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT_METADATA, targets)) return true;

    const { req, res } = this.getRequestResponse(context) as { req: Request; res: Response };
    const charges = await this.chargesFor(context, req);
    if (charges.length === 0) return true;

    const route = `${context.getClass().name}.${context.getHandler().name}`;
    const verdict = await this.limiter.consume(charges, route);
    if (verdict.kind === 'unavailable') {
      this.setResponseHeader(res, 'Retry-After', verdict.retryAfterSec);
      throw new RateLimitUnavailableException(verdict.retryAfterSec);
    }
    const { outcomes, admitted } = verdict.decision;
    for (const [name, value] of Object.entries(rateLimitHeaders(outcomes))) this.setResponseHeader(res, name, value);
    if (admitted) return true;
    const retryAfter = retryAfterSeconds(outcomes);
    this.setResponseHeader(res, 'Retry-After', retryAfter);
    throw new RateLimitExceededException(retryAfter, this.moduleOptions.errorMessage);
  }

  /** The policies this request spends, with their tracker and any per-route `@Throttle` override. */
  protected async chargesFor(context: ExecutionContext, req: Request): Promise<PolicyCharge[]> {
    const targets = [context.getHandler(), context.getClass()];
    const optIn = new Set(this.reflector.getAllAndMerge<string[]>(RATE_LIMIT_POLICIES_METADATA, targets) ?? []);
    for (const name of optIn) {
      if (!this.policies.some((policy) => policy.name === name)) {
        throw new Error(`@RateLimitPolicy('${name}') on ${context.getClass().name}: no such rate-limit policy`);
      }
    }
    const stockSkipAll = this.reflector.getAllAndOverride<boolean>(`${THROTTLER_SKIP}default`, targets) === true;
    const user = this.verifiedUserId(req);
    const ip = ipTracker(rateLimitIpKey(clientIp(req)));

    const charges: PolicyCharge[] = [];
    for (const policy of this.policies) {
      if (policy.scope === 'opt-in' && !optIn.has(policy.name)) continue;
      const skip = this.reflector.getAllAndOverride<boolean | undefined>(THROTTLER_SKIP + policy.name, targets);
      if (skip ?? (policy.scope === 'all-routes' && stockSkipAll)) continue;
      const limit = await this.resolveNumber(context, THROTTLER_LIMIT + policy.name, policy.limit, 0);
      const ttlMs = await this.resolveNumber(context, THROTTLER_TTL + policy.name, policy.ttlMs, 1);
      const tracker = policy.tracker === 'ip' || user === undefined ? ip : userTracker(user);
      charges.push({ policy: policy.name, tracker, limit, ttlMs, onRedisError: policy.onRedisError });
    }
    return charges;
  }

  /**
   * The id of the user an earlier guard verified. Only `req.user` is trusted, never a token read
   * here: an unverified JWT would let a client choose its own budget.
   */
  protected verifiedUserId(req: Request): string | undefined {
    const id = (req as Request & { user?: { id?: unknown } }).user?.id;
    if (typeof id === 'number' && Number.isFinite(id)) return String(id);
    return typeof id === 'string' && id.length > 0 ? id : undefined;
  }

  private async resolveNumber(context: ExecutionContext, metadataKey: string, fallback: number, min: number): Promise<number> {
    const override = this.reflector.getAllAndOverride<Resolvable | undefined>(metadataKey, [context.getHandler(), context.getClass()]);
    if (override === undefined) return fallback;
    const value = Number(typeof override === 'function' ? await override(context) : override);
    if (!Number.isFinite(value) || value < min) throw new Error(`Invalid ${metadataKey} override: ${String(value)}`);
    return Math.ceil(value);
  }
}
