import type { Reflector } from '@nestjs/core';

import { IS_PUBLIC } from './public.decorator';

/**
 * Whether a route is `@Public()` (on its handler or its class), for the guards on every request.
 * Decorator metadata is fixed at start-up, so each handler and class is read through the Reflector once.
 */
export class PublicRoutes {
  private readonly byHandler = new WeakMap<Function, WeakMap<Function, boolean>>();

  constructor(private readonly reflector: Reflector) {}

  isPublic(handler: Function, cls: Function): boolean {
    let byClass = this.byHandler.get(handler);
    let isPublic = byClass?.get(cls);
    if (isPublic === undefined) {
      isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC, [handler, cls]) === true;
      if (!byClass) this.byHandler.set(handler, (byClass = new WeakMap()));
      byClass.set(cls, isPublic);
    }
    return isPublic;
  }
}
