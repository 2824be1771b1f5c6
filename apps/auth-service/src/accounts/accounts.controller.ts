import { Controller, Delete, HttpCode, Param, ParseUUIDPipe } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser, Roles } from '@lib/auth';
import { SessionsService } from '@lib/sessions';
import { RateLimitPolicy } from '@lib/throttling';
import { AccountNotFoundError } from './accounts.errors';
import { UsersRepository } from './users.repository';

/** Account administration (role `admin`). */
@ApiTags('accounts')
@Roles('admin')
@RateLimitPolicy('admin')
@Controller('accounts')
export class AccountsController {
  constructor(
    private readonly users: UsersRepository,
    private readonly sessions: SessionsService,
  ) {}

  @Delete(':id/sessions')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'every session of the account has ended' })
  @ApiNotFoundResponse()
  async revokeSessions(@Param('id', new ParseUUIDPipe()) id: string, @CurrentUser() admin: AuthenticatedUser): Promise<void> {
    if (!(await this.users.findById(id))) throw new AccountNotFoundError();
    await this.sessions.revokeAll(id, admin.id);
  }
}
