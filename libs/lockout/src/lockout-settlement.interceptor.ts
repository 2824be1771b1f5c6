import { Injectable, Logger, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, from, mergeMap, throwError, type Observable } from 'rxjs';

import { InvalidCredentialsError } from './invalid-credentials.error';
import { LockoutService } from './lockout.service';
import { getLoginReservation, isLoginUncounted } from './login-reservation';

/**
 * Settles the attempt {@link LockoutGuard} reserved, from what the handler did, before the answer
 * is sent: so a locked account is locked for the very next request, and a known and an unknown
 * email take the same path. A result is a success, an {@link InvalidCredentialsError} a failure,
 * any other error gives the attempt back. Pipes run inside it, so a body that fails validation
 * gives the attempt back rather than counting as a failure. An attempt the handler settled itself
 * (through its `LoginAttempt`, or `LockoutService.recordSuccess` in the same tick as its own Redis
 * write) is left as it is, at no extra Redis round trip.
 */
@Injectable()
export class LockoutSettlementInterceptor implements NestInterceptor {
  constructor(private readonly lockout: LockoutService) {}

  private readonly logger = new Logger('LockoutSettlement');
  private readonly warned = new Set<string>();

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const req = context.switchToHttp().getRequest<object>();
    const reservation = getLoginReservation(req);
    if (!reservation) return isLoginUncounted(req) ? next.handle().pipe(mergeMap(() => this.refuseUncounted(context))) : next.handle();
    return next.handle().pipe(
      mergeMap((value: unknown) => from(this.lockout.recordSuccess(reservation).then(() => value))),
      catchError((error: unknown) => {
        const settled =
          error instanceof InvalidCredentialsError ? this.lockout.recordFailure(reservation) : this.lockout.release(reservation);
        return from(settled).pipe(mergeMap(() => throwError(() => error)));
      }),
    );
  }

  /**
   * The handler accepted a login whose body had no email the lockout counts (no `email` field, or
   * one `isCountableEmail` refuses, such as `admin@localhost` or an array): such guesses were never
   * counted, so a success would be the end of an unlimited guessing run. It is refused instead.
   */
  private refuseUncounted(context: ExecutionContext): Observable<never> {
    const route = `${context.getClass().name}.${context.getHandler().name}`;
    if (!this.warned.has(route)) {
      this.warned.add(route);
      this.logger.error(
        `${route} accepted a login whose body has no email the lockout counts, and it was refused: answer 400 for ` +
          'a body whose `email` fails isCountableEmail() (exported by @nest-hardening/lockout), or override ' +
          'LockoutGuard.getEmail for another body shape',
      );
    }
    return throwError(() => new Error(`${route}: login not counted by the lockout (no countable email in the body)`));
  }
}
