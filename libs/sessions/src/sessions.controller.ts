import { Controller, Delete, Get, HttpCode, Param, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { CurrentUser, type AuthenticatedUser } from '@nest-hardening/auth';
import { ApiErrors } from '@nest-hardening/openapi';

import { mapSession, SessionDto } from './session.dto';
import { SessionNotFoundError } from './sessions.errors';
import { SessionsService } from './sessions.service';

/** The caller's own sessions. Mounted by auth-service, reached through the gateway at /api/me/sessions. */
@ApiTags('sessions')
@ApiBearerAuth()
@ApiErrors(401, 503)
@Controller('me/sessions')
export class SessionsController {
  constructor(private readonly sessions: SessionsService) {}

  @Get()
  @ApiOkResponse({ type: [SessionDto] })
  async list(@CurrentUser() user: AuthenticatedUser): Promise<SessionDto[]> {
    return (await this.sessions.list(user.id)).map((s) => mapSession(s, user.sessionId));
  }

  @Delete()
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'every session except the current one has ended' })
  async revokeOthers(@CurrentUser() user: AuthenticatedUser, @Req() req: { url: string }): Promise<void> {
    // Routing is not strict, so `/me/sessions/` lands here too: that is `/me/sessions/${id}` with an
    // empty id (a client's missing value), an unknown session, never "end every other one".
    if (req.url.split('?')[0].endsWith('/')) throw new SessionNotFoundError();
    await this.sessions.revokeOthers(user);
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'the session has ended' })
  @ApiErrors({ status: 404, description: "no such session, or not the caller's" })
  async revoke(@CurrentUser() user: AuthenticatedUser, @Param('id') id: string): Promise<void> {
    await this.sessions.revoke(user.id, id);
  }
}
