import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse } from '@nestjs/swagger';

import type { Role } from './authenticated-user.interface';

export const REQUIRED_ROLES = 'auth:roles';

/** Restricts a route to principals holding one of `roles` (checked by {@link RolesGuard}). */
export const Roles = (...roles: Role[]): MethodDecorator & ClassDecorator =>
  applyDecorators(
    SetMetadata(REQUIRED_ROLES, roles),
    ApiBearerAuth(),
    ApiForbiddenResponse({ description: `requires role ${roles.join(' or ')}` }),
  );
