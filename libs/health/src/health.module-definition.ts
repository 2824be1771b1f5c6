import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface HealthModuleOptions {
  /** Readiness includes Redis (PING). */
  redis: boolean;
  /** Readiness includes Postgres (`SELECT 1`). */
  database: boolean;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: HEALTH_MODULE_OPTIONS } = new ConfigurableModuleBuilder<HealthModuleOptions>({
  moduleName: 'Health',
})
  .setClassMethodName('forRoot')
  .build();
