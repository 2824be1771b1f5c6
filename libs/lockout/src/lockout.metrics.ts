import { Injectable } from '@nestjs/common';

import type { LockoutRule } from './lockout.store';

/** The rule that started a lock, by the name its security event carries. */
export type LockoutMetricsRule = 'pair' | 'email_ceiling' | 'ip_spraying';

/**
 * Process-local lockout counters for the apps' metrics endpoint, incremented where the security
 * events are emitted. Plain numbers: incrementing them costs nothing on the login path.
 */
@Injectable()
export class LockoutMetrics {
  /** Locks started, by rule. */
  readonly locks: Record<LockoutMetricsRule, number> = { pair: 0, email_ceiling: 0, ip_spraying: 0 };
  /** Login attempts refused because a lock applied, by the store's rule name. */
  readonly refused: Record<LockoutRule, number> = { pair: 0, email: 0, ip: 0 };
  /** Admin unlocks. */
  unlocks = 0;

  snapshot(): Readonly<{ locks: Record<LockoutMetricsRule, number>; refused: Record<LockoutRule, number>; unlocks: number }> {
    return { locks: { ...this.locks }, refused: { ...this.refused }, unlocks: this.unlocks };
  }
}
