import { ApiProperty } from '@nestjs/swagger';
import { IsString, MaxLength } from 'class-validator';
import { IsAccountEmail } from './account-email.decorator';
import { IsAcceptablePassword } from './password-policy.decorator';

export class RegisterDto {
  @IsAccountEmail()
  email!: string;

  @IsAcceptablePassword()
  password!: string;
}

export class LoginDto {
  @IsAccountEmail()
  email!: string;

  // Login checks only shape and size: a policy change must not lock out passwords set under the old one.
  @ApiProperty({ format: 'password' })
  @IsString()
  @MaxLength(1024)
  password!: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'the refresh token from the last login or refresh' })
  @IsString()
  @MaxLength(256)
  refreshToken!: string;
}

export class ChangePasswordDto {
  @ApiProperty({ format: 'password' })
  @IsString()
  @MaxLength(1024)
  currentPassword!: string;

  @IsAcceptablePassword()
  newPassword!: string;
}

export class RegisteredDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
}

export class TokenPairDto {
  @ApiProperty() accessToken!: string;
  @ApiProperty({ description: 'single use: every refresh returns a new one' }) refreshToken!: string;
  @ApiProperty({ example: 'Bearer' }) tokenType!: 'Bearer';
  @ApiProperty({ description: 'access token lifetime in seconds' }) expiresIn!: number;
}

export class MeDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ['user', 'admin'] }) role!: 'user' | 'admin';
}
