import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import type { Pool } from 'pg';

import { PG_POOL } from '@nest-hardening/database';

/**
 * How recently a connection must have come back whole for a saturated pool to count as serving:
 * the default query timeout, so a Postgres that stopped answering stops counting once the queries
 * it held have timed out (their connections are then destroyed, not given back).
 */
export const POSTGRES_SERVING_WITHIN_MS = 5000;

/**
 * Readiness asks whether this instance can do its work. Its `SELECT 1` waits for a connection of
 * the app's own pool, so it proves what the app's queries need; but under load every connection is
 * lent out, the check queues behind the app's queries, and a probe that times out there takes a
 * busy, healthy instance out of its load balancer, sending its traffic to the others, which then
 * saturate in turn. A pool that is full and whose connections keep coming back whole is serving:
 * that answers up (`saturated: true`) without queueing. A pool that is full and stuck (Postgres
 * silent, connections leaked) gives nothing back, so the check queues and fails as before.
 */
@Injectable()
export class PostgresHealthIndicator {
  private lastServedAt = Number.NEGATIVE_INFINITY;

  constructor(
    @Inject(PG_POOL) private readonly pool: Pool,
    private readonly indicators: HealthIndicatorService,
  ) {
    // `pg` passes an error (or `true`, a connection to destroy) when a connection comes back broken;
    // translatingPool passes `true` for one whose query got no answer or whose session the server ended.
    pool.on('release', (error: unknown) => {
      if (!error) this.lastServedAt = performance.now();
    });
  }

  async check(key = 'postgres'): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    if (this.isSaturatedAndServing()) return indicator.up({ saturated: true });
    try {
      await this.pool.query('SELECT 1');
      return indicator.up();
    } catch {
      return indicator.down({ message: 'unreachable' });
    }
  }

  private isSaturatedAndServing(): boolean {
    const { idleCount, totalCount, options } = this.pool;
    const saturated = idleCount === 0 && totalCount >= (options.max ?? 10);
    return saturated && performance.now() - this.lastServedAt <= POSTGRES_SERVING_WITHIN_MS;
  }
}
