import { Module } from '@nestjs/common';

import { MemorySessionStoreModule } from './memory-session-store.module';
import { RefreshMetrics } from './refresh-metrics';
import { RefreshRotationService } from './refresh-rotation.service';
import { sessionStoreProvider } from './session-store.provider';
import { SessionStore } from './session.store';
import { SessionsController } from './sessions.controller';
import { ConfigurableModuleClass, SESSIONS_MODULE_OPTIONS } from './sessions.module-definition';
import { SessionsService } from './sessions.service';

/**
 * Session issuing, refresh-token rotation and session management (auth-service only). Mounts
 * `SessionsController` at `/me/sessions`. Needs `RedisModule` and `SecurityEventsModule`; with
 * `store: 'memory'` (unit tests only) no Redis.
 */
@Module({
  imports: [MemorySessionStoreModule],
  controllers: [SessionsController],
  providers: [sessionStoreProvider('SessionsModule', SESSIONS_MODULE_OPTIONS), RefreshRotationService, SessionsService, RefreshMetrics],
  exports: [SessionStore, RefreshRotationService, SessionsService, RefreshMetrics],
})
export class SessionsModule extends ConfigurableModuleClass {}
