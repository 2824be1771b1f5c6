import type { LockoutAddressState, LockoutIpState, LockoutState } from './lockout-state.interface';

/**
 * Builds the admin view of lockout state from the numbers a store keeps (lock ends as epoch ms,
 * 0 = none), so every store reports it the same way. A stored end means the lock is active: lock
 * entries expire with the lock.
 */
export function until<K extends string>(epochMs: number, flag: K): Record<K, boolean> & { [P in `${K}Until`]: Date | null } {
  const active = Number(epochMs) > 0;
  return { [flag]: active, [`${flag}Until`]: active ? new Date(Number(epochMs)) : null } as Record<K, boolean> & {
    [P in `${K}Until`]: Date | null;
  };
}

/** One address's pair state. */
export function addressState(
  address: string,
  lockedUntil: number,
  backoffLevel: number,
  failures: number,
  pending: number,
  lastSuccessAt: number,
): LockoutAddressState {
  return {
    address,
    ...until(lockedUntil, 'locked'),
    backoffLevel,
    failures,
    pending,
    lastSuccessAt: lastSuccessAt > 0 ? new Date(lastSuccessAt) : null,
  };
}

/** An address's spraying budget. */
export function ipState(address: string, blockedUntil: number, failures: number, pending: number): LockoutIpState {
  return { address, ...until(blockedUntil, 'blocked'), failures, pending };
}

/** The account's state: locked when the account-wide lock or any pair lock is active, until the latest end. */
export function accountState(
  emailLockedUntil: number,
  emailFailures: number,
  emailPending: number,
  addresses: LockoutAddressState[],
): LockoutState {
  const email = until(emailLockedUntil, 'emailLocked');
  const ends = [email.emailLockedUntil, ...addresses.map((a) => a.lockedUntil)].filter((d): d is Date => d !== null);
  const lockedUntil = ends.length > 0 ? new Date(Math.max(...ends.map((d) => d.getTime()))) : null;
  return {
    locked: lockedUntil !== null,
    lockedUntil,
    ...email,
    emailFailures,
    emailPending,
    backoffLevel: Math.max(0, ...addresses.map((a) => a.backoffLevel)),
    addresses,
  };
}
