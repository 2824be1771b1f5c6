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

const UNCOUNTED = Symbol('lockoutUncounted');

type WithUncounted = { [UNCOUNTED]?: true };

/** Marks a request to a `@LockoutProtected()` route whose body held no email the lockout counts. */
export function markLoginUncounted(req: object): void {
  (req as WithUncounted)[UNCOUNTED] = true;
}

/** Whether {@link LockoutGuard} let this request through without counting it (no countable email). */
export function isLoginUncounted(req: object): boolean {
  return (req as WithUncounted)[UNCOUNTED] === true;
}
