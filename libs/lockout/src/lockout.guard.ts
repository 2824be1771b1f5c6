import { Inject, Injectable, Logger, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { Request, Response } from 'express';

import { clientIp } from '@nest-hardening/client-ip';
import { failureReason } from '@nest-hardening/errors';

import { AccountLockedError } from './account-locked.error';
import { LockoutAccountDirectory } from './lockout-account-directory.interface';
import type { ResolvedLockoutOptions } from './lockout-options.interface';
import type { LockoutReservation } from './lockout-reservation.interface';
import { LOCKOUT_SUBJECT_SOURCE, type LockoutSubjectSource } from './lockout-subject-source';
import { LockoutUnavailableError } from './lockout-unavailable.error';
import { isCountableEmail } from './lockout.email';
import { RESOLVED_LOCKOUT_OPTIONS } from './lockout.module-definition';
import { LockoutService } from './lockout.service';
import { setLoginAttempt } from './login-attempt.decorator';
import { markLoginUncounted, setLoginReservation } from './login-reservation';

/**
 * Reserves a password attempt in one atomic step before the handler checks the password, or
 * refuses it with {@link AccountLockedError} (429 + `Retry-After`), so a locked pair costs no
 * password hashing and concurrent guesses cannot overrun the limit. Apply it with
 * {@link LockoutProtected}, which also settles the attempt from the handler's outcome; a
 * reservation still unsettled when the response is sent is given back with a warning. Used alone
 * (`@UseGuards(LockoutGuard)` without the settlement interceptor) the app fails at start-up.
 * Written to be extended: override `getEmail` for another body shape.
 */
@Injectable()
export class LockoutGuard implements CanActivate {
  private readonly logger = new Logger(LockoutGuard.name);

  constructor(
    private readonly lockout: LockoutService,
    @Inject(RESOLVED_LOCKOUT_OPTIONS) private readonly options: ResolvedLockoutOptions,
    private readonly reflector: Reflector,
    @Optional() @Inject(LockoutAccountDirectory) private readonly directory?: LockoutAccountDirectory | null,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const source = this.reflector.get<LockoutSubjectSource | undefined>(LOCKOUT_SUBJECT_SOURCE, context.getHandler());
    const email = source === 'current-user' ? await this.getAccountEmail(req) : this.getEmail(req);
    // No usable email: nothing to count; the route's validation answers 400. Should the handler
    // accept the login anyway, the settlement interceptor refuses it (see isLoginUncounted).
    if (email === undefined) {
      if (source !== 'current-user') markLoginUncounted(req);
      return true;
    }

    let decision;
    try {
      decision = await this.lockout.reserve(email, clientIp(req), req.get('user-agent'));
    } catch (error) {
      this.logger.warn(`Lockout check unavailable (${this.options.onRedisError}): ${failureReason(error)}`);
      if (this.options.onRedisError === 'fail-open') return true;
      throw new LockoutUnavailableError(error);
    }
    if (!decision.allowed) {
      throw new AccountLockedError(decision.retryAfterSeconds);
    }
    const reservation = decision.reservation;
    setLoginReservation(req, reservation);
    setLoginAttempt(req, this.lockout, reservation);
    // Only on 'finish' (the response was sent, so the handler is done): on 'close' after a client
    // abort the handler may still be verifying, and releasing then would let aborted guesses go uncounted.
    const route = `${context.getClass().name}.${context.getHandler().name}`;
    context
      .switchToHttp()
      .getResponse<Response>()
      .once('finish', () => this.releaseIfUnsettled(reservation, route));
    return true;
  }

  /**
   * The settlement interceptor always settles; an attempt still open here was never judged (a
   * later guard refused the request, or the wiring skipped the interceptor). It is given back,
   * the failure-safe side for the account owner, and the route is named so the gap gets fixed.
   */
  private releaseIfUnsettled(reservation: LockoutReservation, route: string): void {
    if (this.lockout.isSettled(reservation)) return;
    this.logger.warn(
      `A login attempt on ${route} was never settled and was given back: protect the handler with @LockoutProtected() ` +
        'and throw InvalidCredentialsError on a wrong password (or report it through @LoginAttempt())',
    );
    void this.lockout.release(reservation);
  }

  /** The authenticated caller's own email (a password change checks their current password). */
  protected async getAccountEmail(req: Request): Promise<string | undefined> {
    const user: unknown = req.user;
    const userId = (user as { id?: unknown } | undefined)?.id;
    if (typeof userId !== 'string') return undefined;
    if (!this.directory)
      throw new Error("LockoutModule needs an accountDirectory to protect a route with @LockoutProtected('current-user')");
    return (await this.directory.findById(userId))?.email;
  }

  protected getEmail(req: Request): string | undefined {
    const email: unknown = (req.body as Record<string, unknown> | undefined)?.email;
    return isCountableEmail(email) ? email : undefined;
  }
}
