import { createParamDecorator, type ExecutionContext } from '@nestjs/common';

import type { LockoutReservation } from './lockout-reservation.interface';
import { getLoginReservation } from './login-reservation';

/**
 * The password attempt {@link LockoutGuard} reserved for this request, for a handler that reports
 * its outcome itself instead of returning or throwing `InvalidCredentialsError`. The first report
 * counts; later ones (and the settlement interceptor) leave it as it is. Without a reservation (no
 * email in the request) both calls do nothing.
 */
export interface LoginAttempt {
  /** The password was right: resets the pair's failure count. */
  succeeded(): Promise<void>;
  /** The password (or the email) was wrong: counts the failure, which may lock. */
  failed(): Promise<void>;
  /**
   * The password `succeeded()` reported was replaced before the login completed (the handler
   * refuses it as stale): the address that success made known is forgotten again.
   */
  superseded(): Promise<void>;
}

/** How an attempt is settled; implemented by `LockoutService`. */
export interface LoginAttemptSettler {
  recordSuccess(reservation: LockoutReservation | undefined): Promise<void>;
  recordFailure(reservation: LockoutReservation | undefined): Promise<void>;
  recordSuperseded(reservation: LockoutReservation | undefined): Promise<void>;
}

const ATTEMPT = Symbol('loginAttempt');

type WithAttempt = { [ATTEMPT]?: LoginAttempt };

const NO_ATTEMPT: LoginAttempt = { succeeded: async () => undefined, failed: async () => undefined, superseded: async () => undefined };

/** Attaches the handler's view of the reservation to the request (called by the guard). */
export function setLoginAttempt(req: object, settler: LoginAttemptSettler, reservation: LockoutReservation): void {
  (req as WithAttempt)[ATTEMPT] = {
    succeeded: () => settler.recordSuccess(reservation),
    failed: () => settler.recordFailure(reservation),
    superseded: () => settler.recordSuperseded(reservation),
  };
}

/**
 * Injects the request's {@link LoginAttempt} into a handler protected with `@LockoutProtected()`.
 *
 * @example
 * @Post('login') @LockoutProtected()
 * async login(@Body() dto: LoginDto, @LoginAttempt() attempt: LoginAttempt) {
 *   if (!(await this.auth.verify(dto))) { await attempt.failed(); throw new UnauthorizedException(); }
 *   await attempt.succeeded();
 *   return this.auth.issueTokens(dto.email);
 * }
 */
export const LoginAttempt = createParamDecorator((_data: unknown, ctx: ExecutionContext): LoginAttempt => {
  const req = ctx.switchToHttp().getRequest<object>();
  // A reservation always comes with its attempt; none means nothing was counted.
  return getLoginReservation(req) ? ((req as WithAttempt)[ATTEMPT] ?? NO_ATTEMPT) : NO_ATTEMPT;
});
