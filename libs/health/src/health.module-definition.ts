import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface HealthModuleOptions {
  /** Readiness includes Redis (PING). */
  redis: boolean;
  /** Readiness includes Postgres (`SELECT 1`). */
  database: boolean;
}

export const { ConfigurableModuleClass } = new ConfigurableModuleBuilder<HealthModuleOptions>({
  moduleName: 'Health',
})
  .setClassMethodName('forRoot')
  .build();
