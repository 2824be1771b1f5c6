import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { ProfileRecord } from './profile.repository';

const DISPLAY_NAME_MIN_LENGTH = 1;
const DISPLAY_NAME_MAX_LENGTH = 100;
// Control characters (U+0000 above all, which Postgres text cannot store) are refused with a 400.
const NO_CONTROL_CHARACTERS = /^[^\p{Cc}]*$/u;

export class UpdateProfileDto {
  @ApiPropertyOptional({
    type: String,
    minLength: DISPLAY_NAME_MIN_LENGTH,
    maxLength: DISPLAY_NAME_MAX_LENGTH,
    pattern: NO_CONTROL_CHARACTERS.source,
    nullable: true,
    description: 'no control characters; null clears it',
  })
  @IsOptional()
  @IsString()
  @MinLength(DISPLAY_NAME_MIN_LENGTH)
  @MaxLength(DISPLAY_NAME_MAX_LENGTH)
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
