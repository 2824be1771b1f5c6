import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

import { observeRedisScripts, onRedisConnectionError, REDIS_CLIENT, type RedisClient } from '@nest-hardening/redis';

import { findOptionalProvider } from './optional-provider';

/**
 * Redis as the app sees it: the latency and errors of every Lua script call (the hot path of rate
 * limiting, sessions and lockout), connection errors, and whether the connection is ready.
 */
@Injectable()
export class RedisMetricsCollector implements OnModuleInit, OnModuleDestroy {
  private client?: RedisClient;
  private stopCountingErrors?: () => void;

  constructor(
    private readonly registry: Registry,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    const client = findOptionalProvider<RedisClient>(this.moduleRef, REDIS_CLIENT);
    if (!client) return;
    this.client = client;
    const registers = [this.registry];
    const duration = new Histogram({
      name: 'redis_script_duration_seconds',
      help: 'Duration of Redis Lua script calls (EVALSHA, plus EVAL after NOSCRIPT), failed ones included, by script.',
      labelNames: ['script'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
    const errors = new Counter({
      name: 'redis_script_errors_total',
      help: 'Redis Lua script calls that failed (connection down, timeout, script error), by script.',
      labelNames: ['script'],
      registers,
    });
    const connectionErrors = new Counter({
      name: 'redis_connection_errors_total',
      help: 'Errors reported by the Redis connections (each failed connect or reconnect attempt; on a cluster, those to any node).',
      registers,
    });
    new Gauge({
      name: 'redis_connection_up',
      help: '1 while the Redis connection is ready, 0 otherwise.',
      registers,
      collect() {
        this.set(client.status === 'ready' ? 1 : 0);
      },
    });
    observeRedisScripts(client, (script, seconds, error) => {
      duration.observe({ script }, seconds);
      if (error !== undefined) errors.inc({ script });
    });
    this.stopCountingErrors = onRedisConnectionError(client, () => connectionErrors.inc());
  }

  onModuleDestroy(): void {
    if (!this.client) return;
    observeRedisScripts(this.client, undefined);
    this.stopCountingErrors?.();
  }
}
