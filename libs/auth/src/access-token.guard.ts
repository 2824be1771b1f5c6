import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import type { Request } from 'express';

import { DomainError } from '@nest-hardening/errors';

import { InvalidAccessTokenError } from './auth.errors';
import { AUTH_MODULE_OPTIONS, type AuthModuleOptions } from './auth.module-definition';
import type { AuthenticatedUser } from './authenticated-user.interface';
import { markAuthenticationRejected } from './authentication-rejection';
import { JwtStrategy } from './jwt.strategy';
import { PublicKeyStore } from './public-key-store';
import { PublicRoutes } from './public-routes';
import { markSessionCheckedByHandler, SESSION_CHECKED_BY_HANDLER } from './session-checked-by-handler.decorator';
import { SessionValidator } from './session-validator.port';
import { VerifiedTokenCache } from './verified-token.cache';

const BEARER = /^Bearer ([A-Za-z0-9_.~+/=-]+)$/;

/**
 * Global guard (register it as the first `APP_GUARD`): every route needs a valid, live access token
 * unless marked `@Public()`. It runs before rate limiting so per-user budgets use a verified
 * principal.
 *
 * The signature is verified by passport-jwt ({@link JwtStrategy}) the first time a token is seen;
 * repeats of the exact same token skip the signature check until it expires. The session check
 * runs on every request either way.
 */
@Injectable()
export class AccessTokenGuard extends AuthGuard() {
  private readonly verified: VerifiedTokenCache;
  private readonly publicRoutes: PublicRoutes;

  constructor(
    private readonly reflector: Reflector,
    @Inject(AUTH_MODULE_OPTIONS) private readonly authOptions: AuthModuleOptions,
    private readonly keys: PublicKeyStore,
    @Inject(SessionValidator) private readonly sessions: SessionValidator,
    strategy: JwtStrategy,
  ) {
    // This module's own strategy, by its own name: never another app's in the same process.
    const own = { defaultStrategy: strategy.name };
    super(own);
    // Nest injects an app's global PassportModule options into AuthGuard's `options` after
    // construction; they name the app's own strategies (or none: every token was a 500), never this one.
    Object.defineProperty(this, 'options', { get: () => own, set: () => undefined });
    this.verified = new VerifiedTokenCache(authOptions.verifiedTokenCacheSize ?? 10_000);
    this.publicRoutes = new PublicRoutes(reflector);
  }

  /** `@SessionCheckedByHandler()` per handler: decorator metadata is fixed at start-up, so it is read once. */
  private readonly handlerChecked = new WeakMap<Function, boolean>();

  /**
   * Synchronous on the common path (a token verified before, its session answer cached), so Nest
   * runs the next guard without an await; a promise when the token must be verified or the session
   * asked for in Redis.
   */
  override canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.publicRoutes.isPublic(context.getHandler(), context.getClass())) return true;
    // The HTTP request is argument 0; `switchToHttp()` would assign three new closures to the context.
    const req = context.getArgByIndex<Request>(0);
    const header = req.headers.authorization;
    const checkedByHandler = this.isCheckedByHandler(context.getHandler());
    if (checkedByHandler) markSessionCheckedByHandler(req);
    // Only exact strings that passed verification are ever cached, so a hit needs no syntax check.
    const known = header?.startsWith('Bearer ') ? this.verified.get(header.slice(7), this.keys.version) : undefined;
    if (!known) return this.verify(context, req, header);
    // Cache hits must age the key set too, or a withdrawn key's cached tokens outlive its withdrawal.
    this.keys.refreshIfStale();
    if (checkedByHandler) return this.admit(req, known, true);
    const active = this.sessions.isActive(known);
    if (typeof active === 'boolean') return this.admit(req, known, active);
    return active.then(
      (answer) => this.admit(req, known, answer),
      (error: unknown) => this.refuse(req, error),
    );
  }

  private isCheckedByHandler(handler: Function): boolean {
    let checked = this.handlerChecked.get(handler);
    if (checked === undefined) {
      checked = this.reflector.get<boolean>(SESSION_CHECKED_BY_HANDLER, handler) === true;
      this.handlerChecked.set(handler, checked);
    }
    return checked;
  }

  // A session check that could not be made (Redis down) propagates, so it maps to 503; every other
  // failure (no token, bad signature, expired, revoked, unknown key) is one generic 401.
  override handleRequest<TUser>(err: unknown, user: TUser | false): TUser {
    if (err instanceof DomainError && err.kind === 'unavailable') throw err;
    if (err || !user) throw new InvalidAccessTokenError();
    return user;
  }

  /** First sight of a token: passport-jwt verifies it and {@link JwtStrategy} checks its session. */
  private async verify(context: ExecutionContext, req: Request, header: string | undefined): Promise<boolean> {
    let version = this.keys.version;
    let error = await this.authenticate(context);
    // Refused, perhaps because the key held under its kid was replaced: once the set has been read
    // again (at most once per cooldown) and differs, the token gets one more verification.
    if (error instanceof InvalidAccessTokenError && (await this.keys.changedSince(version))) {
      version = this.keys.version;
      error = await this.authenticate(context);
    }
    if (error !== undefined) return this.refuse(req, error);
    const token = BEARER.exec(header ?? '')?.[1];
    if (token) this.verified.set(token, req.user as AuthenticatedUser, version);
    return true;
  }

  /** Runs passport-jwt: undefined when the token is accepted (`req.user` is set), else the refusal. */
  private async authenticate(context: ExecutionContext): Promise<unknown> {
    try {
      await super.canActivate(context);
      return undefined;
    } catch (error) {
      return error;
    }
  }

  private admit(req: Request, user: AuthenticatedUser, active: boolean): boolean {
    if (!active) return this.refuse(req, new InvalidAccessTokenError());
    req.user = user;
    return true;
  }

  /**
   * A request without a valid, live token is a 401, unless rejection is deferred to
   * `AuthenticationRequiredGuard` (the request is marked and goes on, e.g. to be rate-limited per IP
   * first). Any other error (Redis down while checking the session) propagates as it is.
   */
  private refuse(req: Request, error: unknown): true {
    if (error instanceof InvalidAccessTokenError && this.authOptions.deferRejection) {
      markAuthenticationRejected(req, error);
      return true;
    }
    throw error;
  }
}
