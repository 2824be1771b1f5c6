import { Body, Controller, Get, Patch } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { CurrentUser, type AuthenticatedUser } from '@nest-hardening/auth';
import { ApiErrors } from '@nest-hardening/openapi';

import { mapProfile, ProfileDto, UpdateProfileDto } from './profile.dto';
import { ProfileRepository } from './profile.repository';

/** The caller's own profile. The token is verified here too, not only at the gateway. */
@ApiTags('profile')
@ApiBearerAuth()
@Controller('profile')
export class ProfileController {
  constructor(private readonly profiles: ProfileRepository) {}

  @Get()
  @ApiOkResponse({ type: ProfileDto })
  @ApiErrors(401, 429, 503)
  async get(@CurrentUser() user: AuthenticatedUser): Promise<ProfileDto> {
    return mapProfile(await this.profiles.find(user.id));
  }

  @Patch()
  @ApiOkResponse({ type: ProfileDto })
  @ApiErrors(400, 401, 413, 415, 429, 503)
  async update(@CurrentUser() user: AuthenticatedUser, @Body() body: UpdateProfileDto): Promise<ProfileDto> {
    // Absent leaves the name as it is; null clears it.
    if (body.displayName === undefined) return mapProfile(await this.profiles.find(user.id));
    return mapProfile(await this.profiles.upsert(user.id, body.displayName));
  }
}
