import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import type { ProfileRecord } from './profile.repository';

export class UpdateProfileDto {
  @ApiPropertyOptional({ maxLength: 100, nullable: true })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
  // Control characters (U+0000 above all, which Postgres text cannot store) are refused with a 400.
  @Matches(/^[^\p{Cc}]*$/u, { message: 'displayName must not contain control characters' })
  displayName?: string | null;
}

export class ProfileDto {
  @ApiProperty() userId!: string;
  @ApiProperty({ nullable: true }) displayName!: string | null;
  @ApiProperty({ nullable: true }) updatedAt!: string | null;
}

export function mapProfile(profile: ProfileRecord): ProfileDto {
  return { userId: profile.userId, displayName: profile.displayName, updatedAt: profile.updatedAt?.toISOString() ?? null };
}
