import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';

import { LockoutAccountDirectory } from './lockout-account-directory.interface';
import { resolveLockoutOptions, type LockoutModuleOptions, type ResolvedLockoutOptions } from './lockout-options.interface';
import { LockoutSettlementInterceptor } from './lockout-settlement.interceptor';
import { LockoutWiringCheck } from './lockout-wiring.check';
import { LockoutGuard } from './lockout.guard';
import { LockoutMetrics } from './lockout.metrics';
import { ConfigurableModuleClass, LOCKOUT_MODULE_OPTIONS, RESOLVED_LOCKOUT_OPTIONS } from './lockout.module-definition';
import { LockoutNotifier } from './lockout.notifier';
import { LockoutService } from './lockout.service';
import { lockoutStoreProvider } from './lockout.store.provider';

/**
 * Account lockout. Needs the global `RedisModule` (a single Redis or a Cluster) and `SecurityEventsModule`;
 * with `store: 'memory'` (an adopter's unit tests only) no Redis.
 * Start-up fails if `LockoutGuard` is used anywhere without the settlement `@LockoutProtected()` wires.
 *
 * @example
 * LockoutModule.forRootAsync({
 *   imports: [AccountsModule],
 *   inject: [AppConfig, AccountsRepository],
 *   useFactory: (config: AppConfig, accounts: AccountsRepository) => ({
 *     keySecret: config.lockoutKeySecret,
 *     smtpUrl: config.smtpUrl,
 *     accountDirectory: { findById: (id) => accounts.findById(id), findByEmail: (e) => accounts.findByEmail(e) },
 *   }),
 * })
 * // then on the login handler: @LockoutProtected(), and throw InvalidCredentialsError on a wrong password
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: RESOLVED_LOCKOUT_OPTIONS,
      inject: [LOCKOUT_MODULE_OPTIONS],
      useFactory: (options: LockoutModuleOptions) => resolveLockoutOptions(options),
    },
    {
      provide: LockoutAccountDirectory,
      inject: [RESOLVED_LOCKOUT_OPTIONS],
      useFactory: (options: ResolvedLockoutOptions) => options.accountDirectory ?? null,
    },
    lockoutStoreProvider,
    LockoutNotifier,
    LockoutService,
    LockoutGuard,
    LockoutSettlementInterceptor,
    LockoutMetrics,
    LockoutWiringCheck,
  ],
  exports: [LockoutService, LockoutGuard, LockoutSettlementInterceptor, LockoutMetrics, LockoutAccountDirectory, RESOLVED_LOCKOUT_OPTIONS],
})
export class LockoutModule extends ConfigurableModuleClass {}
