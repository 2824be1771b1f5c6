import { type CanActivate, type ExecutionContext, Inject, Injectable, Logger, ServiceUnavailableException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { clientIp } from '@lib/client-ip';
import { LockoutService } from './lockout.service';
import { RESOLVED_LOCKOUT_OPTIONS } from './lockout.module-definition';
import type { ResolvedLockoutOptions } from './lockout-options.interface';
import { isCountableEmail } from './lockout.email';
import { AccountLockedException } from './account-locked.exception';
import { setLoginReservation } from './login-reservation.decorator';

/** Seconds a client is asked to wait when the lockout state cannot be read (Redis down, fail-closed). */
const LOCKOUT_UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * Put on the login route (before the handler verifies the password). Reserves the attempt in one
 * atomic step or refuses it with {@link AccountLockedException} (429 + `Retry-After`), so a locked
 * pair costs no password hashing and concurrent guesses cannot overrun the limit.
 * The handler settles the reservation (see {@link LoginReservation}) before it responds; a
 * reservation still unsettled when the response is sent (the body failed validation, the handler
 * failed before the password check) is given back.
 * Written to be extended: override `getEmail` for another body shape.
 */
@Injectable()
export class LockoutGuard implements CanActivate {
  private readonly logger = new Logger(LockoutGuard.name);

  constructor(
    private readonly lockout: LockoutService,
    @Inject(RESOLVED_LOCKOUT_OPTIONS) private readonly options: ResolvedLockoutOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<Request>();
    const email = this.getEmail(req);
    // No usable email: nothing to count; the route's validation answers 400.
    if (email === undefined) return true;

    let decision;
    try {
      decision = await this.lockout.reserve(email, clientIp(req), req.get('user-agent'));
    } catch (error) {
      this.logger.warn(`Lockout check unavailable (${this.options.onRedisError}): ${(error as Error).message}`);
      if (this.options.onRedisError === 'fail-open') return true;
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(LOCKOUT_UNAVAILABLE_RETRY_AFTER_SECONDS));
      throw new ServiceUnavailableException({
        statusCode: 503,
        message: 'Login is temporarily unavailable',
        retryAfter: LOCKOUT_UNAVAILABLE_RETRY_AFTER_SECONDS,
      });
    }
    if (!decision.allowed) {
      context.switchToHttp().getResponse<Response>().setHeader('Retry-After', String(decision.retryAfterSeconds));
      throw new AccountLockedException(decision.retryAfterSeconds);
    }
    setLoginReservation(req, decision.reservation);
    // Only on 'finish' (the response was sent, so the handler is done): on 'close' after a client
    // abort the handler may still be verifying, and releasing then would let aborted guesses go uncounted.
    const reservation = decision.reservation;
    context.switchToHttp().getResponse<Response>().once('finish', () => void this.lockout.releaseUnsettled(reservation));
    return true;
  }

  protected getEmail(req: Request): string | undefined {
    const email: unknown = (req.body as Record<string, unknown> | undefined)?.email;
    return isCountableEmail(email) ? email : undefined;
  }
}
