import { Injectable, type OnModuleInit, type Type } from '@nestjs/common';
import { GUARDS_METADATA, INTERCEPTORS_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';

import { LockoutSettlementInterceptor } from './lockout-settlement.interceptor';
import { LockoutGuard } from './lockout.guard';

/** A guard or interceptor as `@UseGuards`/`@UseInterceptors` store it: a class or an instance. */
type Enhancer = Type<unknown> | object;

function isA(enhancer: Enhancer, base: Type<unknown>): boolean {
  return typeof enhancer === 'function' ? enhancer === base || enhancer.prototype instanceof base : enhancer instanceof base;
}

/**
 * Fails start-up when {@link LockoutGuard} can reserve attempts that nothing settles: on a route
 * without {@link LockoutSettlementInterceptor} (`@UseGuards(LockoutGuard)` alone), or as a global
 * guard. Such a route never locks anyone, silently; `@LockoutProtected()` wires both.
 */
@Injectable()
export class LockoutWiringCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
  ) {}

  onModuleInit(): void {
    const problems = [...this.globalGuards(), ...this.unsettledRoutes()];
    if (problems.length > 0) {
      throw new Error(
        `LockoutGuard reserves login attempts that nothing settles on ${problems.join(', ')}: ` +
          'use @LockoutProtected() on the login handler instead of @UseGuards(LockoutGuard)',
      );
    }
  }

  private globalGuards(): string[] {
    return this.discovery
      .getProviders()
      .filter(
        (wrapper) => typeof wrapper.token === 'string' && wrapper.token.startsWith('APP_GUARD') && wrapper.instance instanceof LockoutGuard,
      )
      .map(() => 'APP_GUARD (every route)');
  }

  private unsettledRoutes(): string[] {
    const routes: string[] = [];
    for (const wrapper of this.discovery.getControllers()) {
      const controller = wrapper.metatype as Type<unknown> | undefined;
      if (!controller) continue;
      const classGuards = this.enhancers(GUARDS_METADATA, controller);
      const classInterceptors = this.enhancers(INTERCEPTORS_METADATA, controller);
      const prototype = controller.prototype as Record<string, Type<unknown>>;
      for (const name of this.scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name];
        const guarded = [...classGuards, ...this.enhancers(GUARDS_METADATA, handler)].some((g) => isA(g, LockoutGuard));
        if (!guarded) continue;
        const settled = [...classInterceptors, ...this.enhancers(INTERCEPTORS_METADATA, handler)].some((i) =>
          isA(i, LockoutSettlementInterceptor),
        );
        if (!settled) routes.push(`${controller.name}.${name}`);
      }
    }
    return routes;
  }

  private enhancers(key: string, target: object): Enhancer[] {
    return (Reflect.getMetadata(key, target) as Enhancer[] | undefined) ?? [];
  }
}
