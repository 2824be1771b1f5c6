import { Module } from '@nestjs/common';
import { RefreshMetrics } from './refresh-metrics';
import { RefreshRotationService } from './refresh-rotation.service';
import { SessionStore } from './session.store';
import { SessionsController } from './sessions.controller';
import { ConfigurableModuleClass } from './sessions.module-definition';
import { SessionsService } from './sessions.service';

/**
 * Session issuing, refresh-token rotation and session management (auth-service only). Mounts
 * `SessionsController` at `/me/sessions`. Needs `RedisModule` and `SecurityEventsModule`.
 */
@Module({
  controllers: [SessionsController],
  providers: [SessionStore, RefreshRotationService, SessionsService, RefreshMetrics],
  exports: [SessionStore, RefreshRotationService, SessionsService, RefreshMetrics],
})
export class SessionsModule extends ConfigurableModuleClass {}
