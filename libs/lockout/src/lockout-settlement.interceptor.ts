import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { catchError, from, mergeMap, throwError, type Observable } from 'rxjs';

import { InvalidCredentialsError } from './invalid-credentials.error';
import { LockoutService } from './lockout.service';
import { getLoginReservation } from './login-reservation';

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

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const reservation = getLoginReservation(context.switchToHttp().getRequest<object>());
    if (!reservation) return next.handle();
    return next.handle().pipe(
      mergeMap((value: unknown) => from(this.lockout.recordSuccess(reservation).then(() => value))),
      catchError((error: unknown) => {
        const settled =
          error instanceof InvalidCredentialsError ? this.lockout.recordFailure(reservation) : this.lockout.release(reservation);
        return from(settled).pipe(mergeMap(() => throwError(() => error)));
      }),
    );
  }
}
