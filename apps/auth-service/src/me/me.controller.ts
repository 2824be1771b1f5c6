import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { CurrentUser, type AuthenticatedUser } from '@nest-hardening/auth';
import { ApiErrors } from '@nest-hardening/openapi';

import { AccountsService } from '../accounts/accounts.service';
import { EventPageQuery } from '../audit/event-page.query';
import { SecurityEventHistory } from '../audit/security-event-history.service';
import { ActivityPageDto } from '../audit/security-event.dto';
import { MeDto } from './me.dto';

@ApiTags('me')
@ApiBearerAuth()
@ApiErrors(401, 503)
@Controller('me')
export class MeController {
  constructor(
    private readonly accounts: AccountsService,
    private readonly history: SecurityEventHistory,
  ) {}

  @Get()
  @ApiOkResponse({ type: MeDto })
  @ApiErrors({ status: 404, description: 'the account no longer exists' })
  async me(@CurrentUser() user: AuthenticatedUser): Promise<MeDto> {
    const row = await this.accounts.getOrFail(user.id);
    return { id: row.id, email: row.email, role: row.role };
  }

  /** The caller's own recent security events: sign-ins (device, network, time), password changes, sessions ended, locks. */
  @Get('activity')
  @ApiOkResponse({ type: ActivityPageDto })
  @ApiErrors({ status: 400, description: 'the cursor or limit is not valid' })
  activity(@CurrentUser() user: AuthenticatedUser, @Query() query: EventPageQuery): Promise<ActivityPageDto> {
    return this.history.forUser(user.id, query);
  }
}
