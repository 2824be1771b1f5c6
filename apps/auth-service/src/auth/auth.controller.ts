import { Body, Controller, HttpCode, Post } from '@nestjs/common';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';

import { CurrentUser, Public, SessionCheckedByHandler, type AuthenticatedUser } from '@nest-hardening/auth';
import { LockoutProtected, LoginAttempt } from '@nest-hardening/lockout';
import { ApiErrors } from '@nest-hardening/openapi';
import { RateLimitPolicy } from '@nest-hardening/rate-limit';
import type { ClientContext } from '@nest-hardening/sessions';

import { AccountsService } from '../accounts/accounts.service';
import { ChangePasswordDto, LoginDto, RefreshDto, RegisterDto, RegisteredDto, TokenPairDto } from './auth.dto';
import { AuthService } from './auth.service';
import { Client } from './client-context.decorator';

@ApiTags('auth')
@Controller('auth')
export class AuthController {
  constructor(
    private readonly auth: AuthService,
    private readonly accounts: AccountsService,
  ) {}

  /**
   * Answers 409 for a registered email (clients rely on 201 + id), so how fast anyone can ask is
   * bounded: the per-address login budget and one registration budget across all clients.
   */
  @Public()
  @RateLimitPolicy('auth', 'registration')
  @Post('register')
  @ApiCreatedResponse({ type: RegisteredDto })
  @ApiErrors(
    { status: 400, description: 'invalid email, or the password policy is not met (the reason is in `message`)' },
    { status: 409, description: 'email already registered' },
    413,
    415,
    { status: 429, description: 'rate limited (per address or all registrations); wait `Retry-After` seconds' },
    503,
  )
  async register(@Body() body: RegisterDto): Promise<RegisteredDto> {
    const user = await this.accounts.register(body.email, body.password);
    return { id: user.id, email: user.email };
  }

  /**
   * The attempt is reserved atomically before the password is checked (a locked email + address
   * pair is refused without any hashing work) and settled from the outcome.
   */
  @Public()
  @RateLimitPolicy('auth')
  @LockoutProtected()
  @Post('login')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiErrors(
    400,
    { status: 401, description: 'wrong email or password (one answer for both)' },
    { status: 403, description: 'the right password for a disabled account' },
    413,
    415,
    { status: 429, description: 'locked out or rate limited; wait `Retry-After` seconds' },
    503,
  )
  login(@Body() body: LoginDto, @Client() client: ClientContext, @LoginAttempt() attempt: LoginAttempt): Promise<TokenPairDto> {
    return this.auth.login(body.email, body.password, client, attempt);
  }

  @Public()
  @RateLimitPolicy('refresh')
  @Post('refresh')
  @HttpCode(200)
  @ApiOkResponse({ type: TokenPairDto })
  @ApiErrors(
    400,
    { status: 401, description: 'unknown, expired, reused or revoked refresh token' },
    413,
    415,
    { status: 429, description: 'rate limited; wait `Retry-After` seconds' },
    503,
  )
  refresh(@Body() body: RefreshDto, @Client() client: ClientContext): Promise<TokenPairDto> {
    return this.auth.refresh(body.refreshToken, client);
  }

  @Post('logout')
  @HttpCode(204)
  @SessionCheckedByHandler()
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'the session has ended; its tokens are refused everywhere' })
  @ApiErrors(401, 503)
  logout(@CurrentUser() user: AuthenticatedUser): Promise<void> {
    return this.auth.logout(user);
  }

  /** The current password is checked like a login: it spends the login budget and the account's lockout budget. */
  @RateLimitPolicy('auth')
  @Post('password')
  @LockoutProtected('current-user')
  @HttpCode(204)
  @ApiBearerAuth()
  @ApiNoContentResponse({ description: 'password changed; every other session has ended' })
  @ApiErrors(
    { status: 400, description: 'the new password is not acceptable, or equals the current one' },
    { status: 401, description: 'no valid access token, a wrong current password, or the session has ended after too many wrong ones' },
    413,
    415,
    { status: 429, description: 'rate limited, or too many wrong passwords for this account; wait `Retry-After` seconds' },
    503,
  )
  changePassword(@CurrentUser() user: AuthenticatedUser, @Body() body: ChangePasswordDto, @Client() client: ClientContext): Promise<void> {
    return this.auth.changePassword(user, body.currentPassword, body.newPassword, client);
  }
}
