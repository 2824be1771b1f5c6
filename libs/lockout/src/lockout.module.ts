import { Module } from '@nestjs/common';
import { ConfigurableModuleClass, LOCKOUT_MODULE_OPTIONS, RESOLVED_LOCKOUT_OPTIONS } from './lockout.module-definition';
import { resolveLockoutOptions, type LockoutModuleOptions, type ResolvedLockoutOptions } from './lockout-options.interface';
import { LockoutAccountDirectory } from './lockout-account-directory.interface';
import { LockoutStore } from './lockout.store';
import { LockoutNotifier } from './lockout.notifier';
import { LockoutMetrics } from './lockout.metrics';
import { LockoutService } from './lockout.service';
import { LockoutGuard } from './lockout.guard';

/**
 * Account lockout. Needs the global `RedisModule` (single Redis) and `SecurityEventsModule`.
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
 * // then on the login route: @UseGuards(LockoutGuard)
 */
@Module({
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
    LockoutStore,
    LockoutNotifier,
    LockoutService,
    LockoutGuard,
    LockoutMetrics,
  ],
  exports: [LockoutService, LockoutGuard, LockoutMetrics, LockoutAccountDirectory, RESOLVED_LOCKOUT_OPTIONS],
})
export class LockoutModule extends ConfigurableModuleClass {}
