import { Body, Controller, Delete, Get, HttpCode, Param, ParseUUIDPipe, Patch } from '@nestjs/common';
import { ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser, Roles } from '@lib/auth';
import { ClearedLockoutDto, LockoutService, type LockoutState, LockoutStateDto } from '@lib/lockout';
import { ApiErrors } from '@lib/openapi';
import { RateLimitPolicy } from '@lib/throttling';
import { AccountAdministrationService } from './account-administration.service';
import { AccountDto, ChangeRoleDto, ChangeStatusDto, mapAccount } from './accounts.dto';

/** Account administration (role `admin`). */
@ApiTags('accounts')
@ApiErrors({ status: 400, description: 'the id is not a UUID, or the body fails validation' }, 401, 404, 413, 415, 429, 503)
@Roles('admin')
@RateLimitPolicy('admin')
@Controller('accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountAdministrationService,
    private readonly lockout: LockoutService,
  ) {}

  /** Lifts every lock of the account (all addresses, the account-wide lock, backoff levels). Idempotent. */
  @Patch(':id/unlock')
  @ApiOkResponse({ description: 'the lock state that was cleared', type: ClearedLockoutDto })
  @ApiNotFoundResponse()
  async unlock(@Param('id', new ParseUUIDPipe()) id: string, @CurrentUser() admin: AuthenticatedUser): Promise<{ cleared: LockoutState }> {
    const account = await this.accounts.getOrFail(id);
    return { cleared: await this.lockout.unlock(account.email, { adminId: admin.id, accountId: id }) };
  }

  @Get(':id/lockout')
  @ApiOkResponse({ description: 'locked or not, until when, failure counts, backoff level; addresses appear only as keyed hashes', type: LockoutStateDto })
  @ApiNotFoundResponse()
  async lockoutState(@Param('id', new ParseUUIDPipe()) id: string): Promise<LockoutState> {
    return this.lockout.getState((await this.accounts.getOrFail(id)).email);
  }

  /** Ends every session of the account at once; the tokens it holds are refused everywhere. */
  @Delete(':id/sessions')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'every session of the account has ended' })
  @ApiNotFoundResponse()
  async revokeSessions(@Param('id', new ParseUUIDPipe()) id: string, @CurrentUser() admin: AuthenticatedUser): Promise<void> {
    await this.accounts.endAllSessions(admin, id);
  }

  /** Takes effect everywhere at once: the account's sessions end, so no token keeps the old role. */
  @Patch(':id/role')
  @ApiOkResponse({ type: AccountDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'own account, or the last active admin' })
  async changeRole(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ChangeRoleDto,
    @CurrentUser() admin: AuthenticatedUser,
  ): Promise<AccountDto> {
    return mapAccount(await this.accounts.changeRole(admin, id, body.role));
  }

  /** A disabled account cannot log in or refresh, and its sessions end at once. */
  @Patch(':id/status')
  @ApiOkResponse({ type: AccountDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'own account, or the last active admin' })
  async changeStatus(
    @Param('id', new ParseUUIDPipe()) id: string,
    @Body() body: ChangeStatusDto,
    @CurrentUser() admin: AuthenticatedUser,
  ): Promise<AccountDto> {
    return mapAccount(await this.accounts.changeStatus(admin, id, body.status));
  }
}
