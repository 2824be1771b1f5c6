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
