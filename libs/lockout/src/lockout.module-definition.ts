import { ConfigurableModuleBuilder } from '@nestjs/common';

import type { LockoutModuleOptions } from './lockout-options.interface';

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: LOCKOUT_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<LockoutModuleOptions>({ moduleName: 'Lockout' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: false }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();

/** Injection token of the options with defaults applied. */
export const RESOLVED_LOCKOUT_OPTIONS = Symbol('RESOLVED_LOCKOUT_OPTIONS');
