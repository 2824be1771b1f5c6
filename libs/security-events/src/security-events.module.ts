import { Module } from '@nestjs/common';

import { ConfigurableModuleClass } from './security-events.module-definition';
import { SecurityEvents } from './security-events.service';

/**
 * @example
 * SecurityEventsModule.forRoot({ service: 'auth-service', pseudonymKey, sentryDsn, isGlobal: true })
 */
@Module({ providers: [SecurityEvents], exports: [SecurityEvents] })
export class SecurityEventsModule extends ConfigurableModuleClass {}
