import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { LockoutReservation } from './lockout-reservation.interface';

const RESERVATION = Symbol('lockoutReservation');

type WithReservation = { [RESERVATION]?: LockoutReservation };

/** Attaches the guard's reservation to the request. */
export function setLoginReservation(req: object, reservation: LockoutReservation): void {
  (req as WithReservation)[RESERVATION] = reservation;
}

/** The reservation {@link LockoutGuard} made for this request, if it made one (no email: none). */
export function getLoginReservation(req: object): LockoutReservation | undefined {
  return (req as WithReservation)[RESERVATION];
}

/**
 * Injects the request's {@link LockoutReservation} (or `undefined`) into a login handler.
 *
 * @example
 * @Post('login') @UseGuards(LockoutGuard)
 * async login(@Body() dto: LoginDto, @LoginReservation() reservation?: LockoutReservation) {
 *   const ok = await this.auth.verify(dto);
 *   if (!ok) { await this.lockout.recordFailure(reservation); throw new UnauthorizedException(); }
 *   await this.lockout.recordSuccess(reservation);
 * }
 */
export const LoginReservation = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): LockoutReservation | undefined =>
    getLoginReservation(ctx.switchToHttp().getRequest<object>()),
);
