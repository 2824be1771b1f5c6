import { Body, Controller, Delete, Get, HttpCode, Param, Patch, Query, UseInterceptors } from '@nestjs/common';
import { ApiConflictResponse, ApiNoContentResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { CurrentUser, Roles, type AuthenticatedUser } from '@nest-hardening/auth';
import { LockoutService } from '@nest-hardening/lockout';
import { ApiErrors } from '@nest-hardening/openapi';
import { RateLimitPolicy } from '@nest-hardening/rate-limit';
import type { ClientContext } from '@nest-hardening/sessions';

import { AdminActionInterceptor } from '../audit/admin-action.interceptor';
import { EventPageQuery } from '../audit/event-page.query';
import { SecurityEventHistory } from '../audit/security-event-history.service';
import { SecurityEventPageDto } from '../audit/security-event.dto';
import { Client } from '../auth/client-context.decorator';
import { AccountAdministrationService } from './account-administration.service';
import { AccountDirectory, type LockoutView } from './account-directory.service';
import { AccountIdPipe } from './account-id.pipe';
import { AccountListQuery } from './account-list.query';
import {
  AccountDto,
  AccountPageDto,
  ChangeRoleDto,
  ChangeStatusDto,
  ClearedLockoutViewDto,
  LockoutViewDto,
  mapAccount,
} from './accounts.dto';
import { AccountsService } from './accounts.service';

/** Account administration (role `admin`). Every change an admin makes or tries is recorded with their id. */
@ApiTags('accounts')
@ApiErrors({ status: 400, description: 'the id is not a UUID, or the query or body fails validation' }, 401, 413, 415, 429, 503)
@Roles('admin')
@RateLimitPolicy('admin')
@UseInterceptors(AdminActionInterceptor)
@Controller('accounts')
export class AccountsController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly administration: AccountAdministrationService,
    private readonly directory: AccountDirectory,
    private readonly history: SecurityEventHistory,
    private readonly lockout: LockoutService,
  ) {}

  /** `?email=` finds one account (exact, normalised; `status` then narrows it); `?status=locked|disabled` lists, newest first. */
  @Get()
  @ApiOkResponse({ type: AccountPageDto })
  list(@Query() query: AccountListQuery): Promise<AccountPageDto> {
    return this.directory.list(query);
  }

  /** The account's security events, newest first; every read is recorded in the trail with the admin. */
  @Get(':id/events')
  @ApiOkResponse({ type: SecurityEventPageDto })
  @ApiNotFoundResponse()
  async events(
    @Param('id', AccountIdPipe) id: string,
    @Query() query: EventPageQuery,
    @CurrentUser() admin: AuthenticatedUser,
    @Client() client: ClientContext,
  ): Promise<SecurityEventPageDto> {
    await this.accounts.getOrFail(id);
    return this.history.forAdmin(id, query, { adminId: admin.id, client });
  }

  /** Lifts every lock of the account (all addresses, the account-wide lock, backoff levels). Idempotent. */
  @Patch(':id/unlock')
  @ApiOkResponse({ description: 'the lock state that was cleared', type: ClearedLockoutViewDto })
  @ApiNotFoundResponse()
  async unlock(@Param('id', AccountIdPipe) id: string, @CurrentUser() admin: AuthenticatedUser): Promise<{ cleared: LockoutView }> {
    const account = await this.accounts.getOrFail(id);
    const cleared = await this.lockout.unlock(account.email, { adminId: admin.id, accountId: id });
    return { cleared: await this.directory.lockoutView(account, cleared) };
  }

  @Get(':id/lockout')
  @ApiOkResponse({
    description:
      'locked or not, until when, failure counts, backoff level; each address as a keyed hash beside its /24 or /48 network and failure history',
    type: LockoutViewDto,
  })
  @ApiNotFoundResponse()
  async lockoutState(@Param('id', AccountIdPipe) id: string): Promise<LockoutView> {
    return this.directory.lockoutView(await this.accounts.getOrFail(id));
  }

  /** Ends every session of the account at once; the tokens it holds are refused everywhere. */
  @Delete(':id/sessions')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'every session of the account has ended' })
  @ApiNotFoundResponse()
  async revokeSessions(@Param('id', AccountIdPipe) id: string, @CurrentUser() admin: AuthenticatedUser): Promise<void> {
    await this.administration.endAllSessions(admin, id);
  }

  /** Takes effect everywhere at once: the account's sessions end, so no token keeps the old role. */
  @Patch(':id/role')
  @ApiOkResponse({ type: AccountDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'own account, or the last active admin' })
  async changeRole(
    @Param('id', AccountIdPipe) id: string,
    @Body() body: ChangeRoleDto,
    @CurrentUser() admin: AuthenticatedUser,
  ): Promise<AccountDto> {
    return mapAccount(await this.administration.changeRole(admin, id, body.role));
  }

  /** A disabled account cannot log in or refresh, and its sessions end at once. */
  @Patch(':id/status')
  @ApiOkResponse({ type: AccountDto })
  @ApiNotFoundResponse()
  @ApiConflictResponse({ description: 'own account, or the last active admin' })
  async changeStatus(
    @Param('id', AccountIdPipe) id: string,
    @Body() body: ChangeStatusDto,
    @CurrentUser() admin: AuthenticatedUser,
  ): Promise<AccountDto> {
    return mapAccount(await this.administration.changeStatus(admin, id, body.status));
  }
}
