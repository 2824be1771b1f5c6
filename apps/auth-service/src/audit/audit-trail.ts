import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Registry } from 'prom-client';

import { failureReason } from '@nest-hardening/errors';
import { SecurityEvents, type SecurityEvent, type SecurityEventSink } from '@nest-hardening/security-events';

import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../config/auth-service.config';
import { toAuditRecord, type AuditRecord } from './audit-record';
import { SecurityEventsRepository } from './security-events.repository';

const LOCK_STARTED = new Set(['account_locked', 'account_lock_email_ceiling']);
const DAY_MS = 24 * 3600 * 1000;
const RETENTION_BATCH = 10_000;
interface BufferedEvent {
  event: SecurityEvent;
  at: Date;
}

/** Events dropped from the buffer: how many, and the times of the first and the last. */
interface Gap {
  count: number;
  from: Date;
  to: Date;
}

/**
 * The audit trail: every security event of auth-service, appended to Postgres. Events are
 * buffered in memory and written in batches off the request path, so recording adds no latency
 * to an answer; a failed write keeps its batch and retries with backoff, so a Postgres hiccup
 * loses nothing as long as the buffer holds (`AUDIT_BUFFER_MAX`; beyond it the oldest events are
 * dropped and counted in `audit_events_dropped_total`). Old events are deleted in batches after
 * `AUDIT_RETENTION_DAYS`.
 */
@Injectable()
export class AuditTrail implements SecurityEventSink, OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(AuditTrail.name);
  /** Events as emitted; reduced to records when written, so parsing user agents stays off the request path. */
  private buffer: BufferedEvent[] = [];
  /**
   * The batch being written, out of `buffer` meanwhile: events recorded during the write can only
   * push out events still waiting, never one being written, and a written batch is removed whole.
   */
  private writing: BufferedEvent[] = [];
  private flushing?: Promise<void>;
  private timer?: NodeJS.Timeout;
  private retentionTimer?: NodeJS.Timeout;
  private failures = 0;
  /** Events dropped since the trail last recorded a drop: said in the trail once writes succeed again. */
  private gap?: Gap;
  /** The gap each `audit_events_dropped` event not yet written stands for. */
  private readonly gapEvents = new WeakMap<SecurityEvent, Gap>();
  /** Gaps recorded in the trail so far (`audit_events_dropped` events emitted). */
  private gapsReported = 0;
  /** Events recorded, and of them (oldest first) those written or dropped: what a flush waits for. */
  private recorded = 0;
  private settled = 0;
  private readonly written: Counter;
  private readonly dropped: Counter;

  constructor(
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    private readonly repository: SecurityEventsRepository,
    private readonly events: SecurityEvents,
    registry: Registry,
  ) {
    const registers = [registry];
    this.written = new Counter({ name: 'audit_events_written_total', help: 'Security events written to the audit trail.', registers });
    this.dropped = new Counter({
      name: 'audit_events_dropped_total',
      help: 'Security events dropped because the audit buffer was full (Postgres unavailable for long).',
      registers,
    });
    const buffered = () => this.buffer.length + this.writing.length;
    new Gauge({
      name: 'audit_events_buffered',
      help: 'Security events waiting to be written to the audit trail.',
      registers,
      collect() {
        this.set(buffered());
      },
    });
  }

  onModuleInit(): void {
    this.events.addSink(this);
    this.retentionTimer = setInterval(() => void this.applyRetention(), this.config.AUDIT_RETENTION_INTERVAL_MS);
    this.retentionTimer.unref();
  }

  record(event: SecurityEvent, at: Date): void {
    this.buffer.push({ event, at });
    this.recorded++;
    this.dropBeyondLimit();
    this.schedule(this.config.AUDIT_FLUSH_INTERVAL_MS);
  }

  /**
   * Writes everything recorded before the call, batch after batch (reads of the trail, shutdown);
   * resolves when it is written or when a write failed (the events stay buffered for the retry).
   * Events recorded meanwhile are not waited for: under steady traffic the buffer is never empty.
   */
  async flush(): Promise<void> {
    const target = this.recorded;
    for (;;) {
      while (this.flushing) await this.flushing;
      if (this.settled >= target || this.buffer.length === 0) return;
      const written = this.writeBatch().finally(() => (this.flushing = undefined));
      this.flushing = written.then(() => undefined);
      if (!(await written)) return;
    }
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.retentionTimer);
    clearTimeout(this.timer);
    this.timer = undefined;
    const gapsReported = this.gapsReported;
    await this.flush();
    // A write that got through recorded the gap it ended after everything this flush waited for:
    // without one more flush, the event saying what the trail misses would itself be lost.
    if (this.gapsReported > gapsReported) await this.flush();
    // A failed write is not retried once the process ends: what is still buffered is lost, and the
    // log must say so (routine events go to the trail only, so nothing else would show it).
    clearTimeout(this.timer);
    this.timer = undefined;
    const lost = this.buffer.length;
    if (lost === 0) return;
    this.buffer = [];
    this.settled += lost;
    this.dropped.inc(lost);
    this.logger.error(`${lost} audit events lost: they could not be written before shutdown`);
  }

  /** Deletes events older than the retention, in batches so no single statement holds locks long. */
  async applyRetention(): Promise<number> {
    const cutoff = new Date(Date.now() - this.config.AUDIT_RETENTION_DAYS * DAY_MS);
    let deleted = 0;
    try {
      for (;;) {
        const n = await this.repository.deleteOlderThan(cutoff, RETENTION_BATCH);
        deleted += n;
        if (n < RETENTION_BATCH) return deleted;
      }
    } catch (error) {
      this.logger.warn(`audit retention failed: ${failureReason(error)}`);
      return deleted;
    }
  }

  private schedule(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, delayMs);
    this.timer.unref();
  }

  /**
   * The oldest waiting events beyond `AUDIT_BUFFER_MAX` are dropped, counted and remembered as a
   * gap, so that the trail itself shows where it is incomplete (an auditor reads the trail, not the
   * metrics). The start of a gap is logged as an error once.
   */
  private dropBeyondLimit(): void {
    const excess = this.buffer.length - this.config.AUDIT_BUFFER_MAX;
    if (excess <= 0) return;
    const dropped = this.buffer.splice(0, excess);
    this.settled += excess;
    this.dropped.inc(excess);
    if (!this.gap) {
      this.logger.error(
        `audit buffer full (AUDIT_BUFFER_MAX ${this.config.AUDIT_BUFFER_MAX}): the oldest events are dropped until Postgres takes them again`,
      );
    }
    // A dropped gap event stands for the events it reported, not for itself: the next one says them again.
    for (const { event, at } of dropped) {
      const reported = this.gapEvents.get(event) ?? { count: 1, from: at, to: at };
      this.gap = this.gap
        ? {
            count: this.gap.count + reported.count,
            from: reported.from < this.gap.from ? reported.from : this.gap.from,
            to: reported.to > this.gap.to ? reported.to : this.gap.to,
          }
        : reported;
    }
  }

  /**
   * Once a write succeeds again: one `audit_events_dropped` event (trail, log, Sentry) says what is
   * missing; only when the buffer has room for it, so that saying so drops nothing more.
   */
  private reportGap(): void {
    const gap = this.gap;
    if (!gap || this.buffer.length >= this.config.AUDIT_BUFFER_MAX) return;
    this.gap = undefined;
    this.gapsReported++;
    const event: SecurityEvent = {
      type: 'audit_events_dropped',
      severity: 'critical',
      details: { count: gap.count, from: gap.from.toISOString(), to: gap.to.toISOString() },
    };
    this.gapEvents.set(event, gap);
    this.events.emit(event);
  }

  /** Writes the oldest batch; false when the write failed (the batch is back in the buffer, a retry scheduled). */
  private async writeBatch(): Promise<boolean> {
    this.writing = this.buffer.splice(0, 500);
    const batch = this.writing.map(({ event, at }) => toAuditRecord(event, at));
    try {
      const ids = await this.repository.accountIdsByEmail([...new Set(batch.flatMap((r) => (r.accountId || !r.email ? [] : [r.email])))]);
      const rows = batch.map((r) => ({ ...r, accountId: r.accountId ?? (r.email ? (ids.get(r.email) ?? null) : null) }));
      // The events and what follows from them (last logins, the index of locked accounts) commit
      // together: those are written from here alone, so a write lost after its events were stored
      // would never be made (a live lock hidden from the locked list), and a retry of the events alone
      // would store them twice.
      await this.repository.transaction(async (repository) => {
        await repository.append(rows);
        await this.applySideEffects(repository, rows);
      });
      // Only the first write of an event counts: a batch is discarded once it is stored.
      this.writing = [];
      this.settled += rows.length;
      this.written.inc(rows.length);
      this.failures = 0;
      this.reportGap();
    } catch (error) {
      // Back in front of the events recorded meanwhile, in order; the oldest go if they no longer fit.
      this.buffer.unshift(...this.writing);
      this.writing = [];
      this.dropBeyondLimit();
      this.failures++;
      const backoff = Math.min(200 * 2 ** this.failures, 5000);
      this.logger.warn(`audit write failed (${batch.length} events kept, retry in ${backoff} ms): ${failureReason(error)}`);
      this.schedule(backoff);
      return false;
    }
    if (this.buffer.length > 0) this.schedule(0);
    return true;
  }

  /** Keeps the account's last login and the index of locked accounts in step with the events. */
  private async applySideEffects(
    repository: SecurityEventsRepository,
    rows: (AuditRecord & { accountId: string | null })[],
  ): Promise<void> {
    const withAccount = rows.filter((r): r is AuditRecord & { accountId: string } => r.accountId !== null);
    await repository.recordLogins(
      withAccount.filter((r) => r.type === 'login_succeeded').map((r) => ({ accountId: r.accountId, at: r.at })),
    );
    // Unlocks leave the index as it is: whether a lock began after an unlock cannot be told from the
    // times of their events, which come from the clocks of different instances, and dropping a lock
    // in force hides a locked account. The listing checks each lock is live and drops the ended ones.
    const locks = withAccount.filter((r) => LOCK_STARTED.has(r.type));
    await repository.recordLocks(locks.map((r) => ({ accountId: r.accountId, at: r.at, until: lockEnd(r) })));
  }
}

/**
 * When a lock event's lock ends. A duration that is not a number counts as none (the listing checks
 * each lock is live): an invalid date would fail its batch's transaction on every retry.
 */
function lockEnd(record: AuditRecord): Date {
  const seconds = Number(record.details.lockSeconds ?? 0);
  return new Date(record.at.getTime() + (Number.isFinite(seconds) ? seconds : 0) * 1000);
}
