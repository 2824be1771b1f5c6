import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches } from 'class-validator';

import { TextLength } from '@nest-hardening/openapi';

import type { ProfileRecord } from './profile.repository';

const DISPLAY_NAME_MIN_LENGTH = 1;
const DISPLAY_NAME_MAX_LENGTH = 100;
// Control characters (U+0000 above all, which Postgres text cannot store) and lone surrogates (which
// UTF-8 cannot encode: pg would store U+FFFD) are refused with a 400.
const NO_CONTROL_CHARACTERS = /^[^\p{Cc}\p{Cs}]*$/u;

export class UpdateProfileDto {
  @ApiPropertyOptional({
    type: String,
    pattern: NO_CONTROL_CHARACTERS.source,
    nullable: true,
    description: 'no control characters; null clears it',
  })
  @IsOptional()
  @IsString()
  @TextLength({ min: DISPLAY_NAME_MIN_LENGTH, max: DISPLAY_NAME_MAX_LENGTH })
  @Matches(NO_CONTROL_CHARACTERS, { message: 'displayName must not contain control characters' })
  displayName?: string | null;
}

export class ProfileDto {
  @ApiProperty() userId!: string;
  @ApiProperty({ type: String, nullable: true }) displayName!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) updatedAt!: string | null;
}

export function mapProfile(profile: ProfileRecord): ProfileDto {
  return { userId: profile.userId, displayName: profile.displayName, updatedAt: profile.updatedAt?.toISOString() ?? null };
}
