import { Inject, Injectable, type ExecutionContext, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import {
  InjectThrottlerOptions,
  InjectThrottlerStorage,
  ThrottlerGuard,
  type ThrottlerModuleOptions,
  type ThrottlerStorage,
} from '@nestjs/throttler';
import type { Request, Response } from 'express';

import { clientIp, isGatewayRequest, rateLimitIpKey } from '@nest-hardening/client-ip';

import { RateLimitExceededError } from './rate-limit-exceeded.error';
import { RateLimitUnavailableError } from './rate-limit-unavailable.error';
import {
  RATE_LIMIT_POLICIES,
  RATE_LIMIT_POLICIES_METADATA,
  SKIP_RATE_LIMIT_METADATA,
  THROTTLER_LIMIT,
  THROTTLER_SKIP,
  THROTTLER_TTL,
} from './rate-limit.constants';
import { rateLimitHeaders, rateLimitPolicyHeader, retryAfterSeconds } from './rate-limit.headers';
import { GLOBAL_TRACKER, ipTracker, overriddenWindow, userTracker } from './rate-limit.keys';
import { RateLimiter, type PolicyCharge, type RateLimitVerdict } from './rate-limit.limiter';
import { RATE_LIMIT_MODULE_OPTIONS, type RateLimitModuleOptions } from './rate-limit.module-definition';
import { MALFORMED_POLICY, type RateLimitPolicyDefinition } from './rate-limit.policy';

type RequestResolver = (context: ExecutionContext) => number | string | Promise<number | string>;
type Resolvable = number | string | RequestResolver;

interface RoutePolicy {
  policy: RateLimitPolicyDefinition;
  /** The policy's limit and window, with a fixed per-route `@Throttle` override applied. */
  limit: number;
  ttlMs: number;
  /** A per-route `@Throttle` override computed from each request, if any. */
  limitOf?: RequestResolver;
  ttlOf?: RequestResolver;
}

export interface RoutePlan {
  route: string;
  skip: boolean;
  policies: RoutePolicy[];
  /** Some override depends on the request: charges must be resolved per request (asynchronously). */
  perRequest: boolean;
  /** The `RateLimit-Policy` header, when the budgets are fixed (not `perRequest`). */
  policyHeader?: string;
  /** Some policy gives its unit back when the request turns out malformed. */
  refundsIfMalformed: boolean;
  /** The plan for requests signed by the gateway: without the policies the gateway already charged. */
  viaGateway?: RoutePlan;
}

const ADMITTED = Promise.resolve(true);

/** Answers that refuse a request before anything it asked for is looked at. */
const MALFORMED_STATUSES = new Set([400, 413, 415]);

/**
 * Rate-limit guard: every policy that applies to a request is checked and charged in one atomic
 * Redis call (one budget per tracker and policy, shared by all routes; unlike the stock guard the
 * key never contains the handler). Register it yourself, after the guard that verifies the access
 * token and sets `req.user`:
 *
 * @example
 * providers: [
 *   { provide: APP_GUARD, useClass: AccessTokenGuard },  // sets req.user from a verified token
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
    @Inject(RATE_LIMIT_MODULE_OPTIONS) private readonly moduleOptions: RateLimitModuleOptions,
    @Inject(RateLimiter) private readonly limiter: RateLimiter,
  ) {
    super(options, storage, reflector);
    this.malformedPolicy = policies.find((policy) => policy.name === MALFORMED_POLICY);
    this.gatewayEnforced = new Set(moduleOptions.gatewayEnforced ?? []);
  }

  private readonly malformedPolicy: RateLimitPolicyDefinition | undefined;
  private readonly gatewayEnforced: ReadonlySet<string>;

  private readonly plans = new WeakMap<Function, Map<Function, RoutePlan>>();

  override canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return ADMITTED;
    const routePlan = this.planFor(context);
    if (routePlan.skip) return ADMITTED;

    // HTTP arguments are [req, res, next]; `switchToHttp()` would assign three new closures to the
    // context on every call.
    const req = context.getArgByIndex<Request>(0);
    const res = context.getArgByIndex<Response>(1);
    const plan = routePlan.viaGateway !== undefined && isGatewayRequest(req) ? routePlan.viaGateway : routePlan;
    // Most routes have fixed budgets: their charges are built without an extra await.
    if (plan.perRequest) return this.chargesFor(context, req, plan).then((charges) => this.decide(charges, plan, req, res));
    return this.decide(this.fixedCharges(req, plan), plan, req, res);
  }

  private decide(charges: PolicyCharge[], plan: RoutePlan, req: Request, res: Response): Promise<boolean> {
    if (charges.length === 0) return ADMITTED;
    return this.limiter.consume(charges, plan.route).then((verdict) => {
      const admitted = this.apply(verdict, plan, res);
      if (plan.refundsIfMalformed && verdict.kind === 'decided' && verdict.source === 'redis')
        this.refundIfMalformed(charges, plan, req, res);
      return admitted;
    });
  }

  /**
   * Once the response is complete: a malformed request (400, 413, 415: refused before its
   * credentials were looked at) gets its units of `refundIfMalformed` policies back and spends the
   * per-IP malformed budget instead, so junk cannot use up a neighbour's login budget. When that
   * budget is spent, the request stays charged as it was.
   */
  private refundIfMalformed(charges: readonly PolicyCharge[], plan: RoutePlan, req: Request, res: Response): void {
    const malformed = this.malformedPolicy;
    if (!malformed) return;
    res.once('finish', () => {
      if (!MALFORMED_STATUSES.has(res.statusCode)) return;
      const refunds = charges.filter((_, i) => plan.policies[i].policy.refundIfMalformed === true);
      void this.limiter.moveToMalformed(refunds, {
        policy: malformed.name,
        tracker: ipTracker(rateLimitIpKey(clientIp(req))),
        limit: malformed.limit,
        ttlMs: malformed.ttlMs,
        onRedisError: malformed.onRedisError,
      });
    });
  }

  /** Sets the rate-limit headers of a verdict; throws the 429 or 503 (the error filter adds `Retry-After`) when it refuses. */
  private apply(verdict: RateLimitVerdict, plan: RoutePlan, res: Response): boolean {
    if (verdict.kind === 'unavailable') throw new RateLimitUnavailableError(verdict.retryAfterSec);
    const { outcomes, admitted } = verdict.decision;
    const headers = rateLimitHeaders(outcomes, plan.policyHeader);
    for (const name in headers) this.setResponseHeader(res, name, headers[name]);
    if (admitted) return true;
    throw new RateLimitExceededError(retryAfterSeconds(outcomes), this.moduleOptions.errorMessage);
  }

  /**
   * Sets a header directly where the response has `setHeader` (Express, Node): the stock helper's
   * `res.header()` goes through Express's `res.set()`, which adds a content-type check per call.
   * Other platforms (Fastify's reply) get the stock behaviour.
   */
  protected override setResponseHeader(res: unknown, name: string, value: string | number): void {
    const target = res as { setHeader?: (name: string, value: string) => void };
    if (typeof target.setHeader === 'function') target.setHeader(name, String(value));
    else super.setResponseHeader(res as never, name, value);
  }

  /**
   * The policies a route spends, read from its decorators once per handler: decorator metadata is
   * fixed at start-up, and reading it on every request was a measurable share of the guard's cost.
   */
  protected planFor(context: ExecutionContext): RoutePlan {
    const handler = context.getHandler();
    const cls = context.getClass();
    let byClass = this.plans.get(handler);
    const cached = byClass?.get(cls);
    if (cached) return cached;
    const plan = this.buildPlan(handler, cls);
    if (!byClass) this.plans.set(handler, (byClass = new Map<Function, RoutePlan>()));
    byClass.set(cls, plan);
    return plan;
  }

  private buildPlan(handler: Function, cls: Type): RoutePlan {
    const targets = [handler, cls];
    const route = `${cls.name}.${handler.name}`;
    if (this.reflector.getAllAndOverride<boolean>(SKIP_RATE_LIMIT_METADATA, targets)) {
      return { route, skip: true, policies: [], perRequest: false, refundsIfMalformed: false };
    }
    const optIn = new Set(this.reflector.getAllAndMerge<string[]>(RATE_LIMIT_POLICIES_METADATA, targets) ?? []);
    for (const name of optIn) {
      if (!this.policies.some((policy) => policy.name === name)) {
        throw new Error(`@RateLimitPolicy('${name}') on ${cls.name}: no such rate-limit policy`);
      }
    }
    const stockSkipAll = this.reflector.getAllAndOverride<boolean>(`${THROTTLER_SKIP}default`, targets) === true;
    const policies: RoutePolicy[] = [];
    for (const policy of this.policies) {
      if (policy.scope === 'opt-in' && !optIn.has(policy.name)) continue;
      const skip = this.reflector.getAllAndOverride<boolean | undefined>(THROTTLER_SKIP + policy.name, targets);
      if (skip ?? (policy.scope === 'all-routes' && stockSkipAll)) continue;
      const limit = this.reflector.getAllAndOverride<Resolvable | undefined>(THROTTLER_LIMIT + policy.name, targets);
      const ttl = this.reflector.getAllAndOverride<Resolvable | undefined>(THROTTLER_TTL + policy.name, targets);
      policies.push({
        policy,
        // A fixed override is checked here, at the route's first request, not on every request.
        limit: limit === undefined || typeof limit === 'function' ? policy.limit : toNumber(THROTTLER_LIMIT + policy.name, limit, 0),
        ttlMs: ttl === undefined || typeof ttl === 'function' ? policy.ttlMs : toNumber(THROTTLER_TTL + policy.name, ttl, 1),
        limitOf: typeof limit === 'function' ? limit : undefined,
        ttlOf: typeof ttl === 'function' ? ttl : undefined,
      });
    }
    const plan = this.planOf(route, policies);
    if (policies.some(({ policy }) => this.gatewayEnforced.has(policy.name))) {
      plan.viaGateway = this.planOf(
        route,
        policies.filter(({ policy }) => !this.gatewayEnforced.has(policy.name)),
      );
    }
    return plan;
  }

  private planOf(route: string, policies: RoutePolicy[]): RoutePlan {
    const perRequest = policies.some((p) => p.limitOf !== undefined || p.ttlOf !== undefined);
    const policyHeader = perRequest
      ? undefined
      : rateLimitPolicyHeader(policies.map(({ policy, limit, ttlMs }) => ({ policy: policy.name, limit, ttlMs })));
    const refundsIfMalformed = policies.some(({ policy }) => policy.refundIfMalformed === true);
    return { route, skip: false, policies, perRequest, policyHeader, refundsIfMalformed };
  }

  /** The policies this request spends, with their tracker and any per-route `@Throttle` override. */
  protected async chargesFor(context: ExecutionContext, req: Request, plan = this.planFor(context)): Promise<PolicyCharge[]> {
    const charges = this.fixedCharges(req, plan);
    for (let i = 0; i < charges.length; i++) {
      const { policy, limitOf, ttlOf } = plan.policies[i];
      if (limitOf) charges[i].limit = toNumber(THROTTLER_LIMIT + policy.name, await limitOf(context), 0);
      if (ttlOf) charges[i].ttlMs = toNumber(THROTTLER_TTL + policy.name, await ttlOf(context), 1);
      charges[i].window = overriddenWindow(policy, charges[i].ttlMs);
    }
    return charges;
  }

  /** The charges of a request with every override taken as fixed (see `chargesFor` for per-request ones). */
  protected fixedCharges(req: Request, plan: RoutePlan): PolicyCharge[] {
    const { ip, user: userKey } = this.trackersOf(req);
    return plan.policies.map(({ policy, limit, ttlMs }) => ({
      policy: policy.name,
      tracker: policy.tracker === 'ip' ? ip : policy.tracker === 'global' ? GLOBAL_TRACKER : userKey,
      limit,
      ttlMs,
      blockMs: policy.blockMs,
      onRedisError: policy.onRedisError,
      window: overriddenWindow(policy, ttlMs),
    }));
  }

  /**
   * Who a request is counted against: its client address (policies with `tracker: 'ip'`) and its
   * user, the address when anonymous (`'user'`, `'user-or-ip'`). The extension point for other
   * keys, the way `getTracker` is the stock guard's: e.g. a tenant-wide budget keyed by a verified
   * tenant id. Only what an earlier guard verified may go into a key, never a raw header.
   */
  protected trackersOf(req: Request): { ip: string; user: string } {
    const user = this.verifiedUserId(req);
    const ip = ipTracker(rateLimitIpKey(clientIp(req)));
    return { ip, user: user === undefined ? ip : userTracker(user) };
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
}

/** A `@Throttle` limit or ttl (stock accepts numbers and numeric strings), checked and rounded up. */
function toNumber(metadataKey: string, override: number | string, min: number): number {
  const value = Number(override);
  if (!Number.isFinite(value) || value < min) throw new Error(`Invalid ${metadataKey} override: ${String(value)}`);
  return Math.ceil(value);
}
