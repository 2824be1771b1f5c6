import { ApiProperty } from '@nestjs/swagger';
import { IsString } from 'class-validator';

import { TextLength } from '@nest-hardening/openapi';

import { IsAccountEmail } from '../accounts/account-email.decorator';
import { IsAcceptablePassword } from './password-policy.decorator';

/**
 * A password being checked (login, current password) is bounded only in size: a policy change must
 * not lock out passwords set under the old one.
 */
const LOGIN_PASSWORD_MAX_LENGTH = 1024;
const REFRESH_TOKEN_MAX_LENGTH = 256;

export class RegisterDto {
  @IsAccountEmail({ newAccount: true })
  email!: string;

  @IsAcceptablePassword()
  password!: string;
}

export class LoginDto {
  @IsAccountEmail()
  email!: string;

  @ApiProperty({ format: 'password' })
  @IsString()
  @TextLength({ max: LOGIN_PASSWORD_MAX_LENGTH })
  password!: string;
}

export class RefreshDto {
  @ApiProperty({ description: 'the refresh token from the last login or refresh' })
  @IsString()
  @TextLength({ max: REFRESH_TOKEN_MAX_LENGTH })
  refreshToken!: string;
}

export class ChangePasswordDto {
  @ApiProperty({ format: 'password' })
  @IsString()
  @TextLength({ max: LOGIN_PASSWORD_MAX_LENGTH })
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
