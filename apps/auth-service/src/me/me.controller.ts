import { Controller, Get } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { type AuthenticatedUser, CurrentUser } from '@lib/auth';
import { ApiErrors } from '@lib/openapi';
import { AccountNotFoundError } from '../accounts/accounts.errors';
import { UsersRepository } from '../accounts/users.repository';
import { MeDto } from '../auth/auth.dto';

@ApiTags('me')
@ApiBearerAuth()
@ApiErrors(401, 404, 503)
@Controller('me')
export class MeController {
  constructor(private readonly users: UsersRepository) {}

  @Get()
  @ApiOkResponse({ type: MeDto })
  async me(@CurrentUser() user: AuthenticatedUser): Promise<MeDto> {
    const row = await this.users.findById(user.id);
    if (!row) throw new AccountNotFoundError();
    return { id: row.id, email: row.email, role: row.role };
  }
}
