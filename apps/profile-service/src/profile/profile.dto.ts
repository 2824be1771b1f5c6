import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, MaxLength, MinLength } from 'class-validator';
import type { ProfileRecord } from './profile.repository';

export class UpdateProfileDto {
  @ApiPropertyOptional({ maxLength: 100, nullable: true })
  @IsOptional()
  @IsString()
  @MinLength(1)
  @MaxLength(100)
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
