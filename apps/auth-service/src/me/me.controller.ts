import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser } from '@lib/auth';
import { AccountNotFoundError } from '../accounts/accounts.errors';
import { UsersRepository } from '../accounts/users.repository';
import { EventPageQuery } from '../audit/event-page.query';
import { SecurityEventHistory } from '../audit/security-event-history.service';
import { ActivityPageDto } from '../audit/security-event.dto';
import { MeDto } from '../auth/auth.dto';

@ApiTags('me')
@ApiBearerAuth()
@Controller('me')
export class MeController {
  constructor(
    private readonly users: UsersRepository,
    private readonly history: SecurityEventHistory,
  ) {}

  @Get()
  @ApiOkResponse({ type: MeDto })
  async me(@CurrentUser() user: AuthenticatedUser): Promise<MeDto> {
    const row = await this.users.findById(user.id);
    if (!row) throw new AccountNotFoundError();
    return { id: row.id, email: row.email, role: row.role };
  }

  /** The caller's own recent security events: sign-ins (device, network, time), password changes, sessions ended, locks. */
  @Get('activity')
  @ApiOkResponse({ type: ActivityPageDto })
  activity(@CurrentUser() user: AuthenticatedUser, @Query() query: EventPageQuery): Promise<ActivityPageDto> {
    return this.history.forUser(user.id, query);
  }
}
