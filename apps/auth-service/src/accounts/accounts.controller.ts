import { Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch } from '@nestjs/common';
import { ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser, Roles } from '@lib/auth';
import { LockoutService, type LockoutState } from '@lib/lockout';
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
    private readonly lockout: LockoutService,
  ) {}

  /** Lifts every lock of the account (all addresses, the account-wide lock, backoff levels). Idempotent. */
  @Patch(':id/unlock')
  @ApiOkResponse({ description: 'the lock state that was cleared' })
  @ApiNotFoundResponse()
  async unlock(@Param('id', new ParseUUIDPipe()) id: string, @CurrentUser() admin: AuthenticatedUser): Promise<{ cleared: LockoutState }> {
    const account = await this.users.findById(id);
    if (!account) throw new AccountNotFoundError();
    return { cleared: await this.lockout.unlock(account.email, { adminId: admin.id, accountId: id }) };
  }

  @Get(':id/lockout')
  @ApiOkResponse({ description: 'locked or not, until when, failure counts, backoff level; addresses appear only as keyed hashes' })
  @ApiNotFoundResponse()
  async lockoutState(@Param('id', new ParseUUIDPipe()) id: string): Promise<LockoutState> {
    const account = await this.users.findById(id);
    if (!account) throw new AccountNotFoundError();
    return this.lockout.getState(account.email);
  }

  @Delete(':id/sessions')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'every session of the account has ended' })
  @ApiNotFoundResponse()
  async revokeSessions(@Param('id', new ParseUUIDPipe()) id: string, @CurrentUser() admin: AuthenticatedUser): Promise<void> {
    if (!(await this.users.findById(id))) throw new AccountNotFoundError();
    await this.sessions.revokeAll(id, admin.id);
  }
}
