import { Body, Controller, Get, HttpCode, Post, Req, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';

import { CurrentUser, Public, Roles, SessionCheckedByHandler, type AuthenticatedUser } from '@nest-hardening/auth';
import { RefreshRotationService, SessionsService, type ClientContext, type IssuedSession } from '@nest-hardening/sessions';

import { AccessTokens } from './access-tokens';

/** The app's own account check; a hard-coded demo user stands in for a user table and argon2. */
const DEMO_USER = { id: '0b6f5b8e-2d1c-4c3a-9e7f-1a2b3c4d5e6f', email: 'demo@example.com', password: 'correct horse battery staple' };

interface TokenPair {
  accessToken: string;
  refreshToken: string;
}

function clientOf(req: Request): ClientContext {
  return { ip: req.ip ?? '', userAgent: req.headers['user-agent'] ?? '' };
}

@Controller()
export class AuthController {
  constructor(
    private readonly rotation: RefreshRotationService,
    private readonly sessions: SessionsService,
    private readonly accessTokens: AccessTokens,
  ) {}

  @Public()
  @Post('auth/login')
  @HttpCode(200)
  async login(@Body() body: { email?: string; password?: string }, @Req() req: Request): Promise<TokenPair> {
    const valid = body.email === DEMO_USER.email && body.password === DEMO_USER.password;
    if (!valid) throw new UnauthorizedException('Invalid email or password');
    // 0: this app keeps no authorization version (a password or role change would advance it).
    return this.pair(await this.rotation.issue(DEMO_USER.id, 'user', clientOf(req), 0));
  }

  @Public()
  @Post('auth/refresh')
  @HttpCode(200)
  async refresh(@Body() body: { refreshToken?: unknown }, @Req() req: Request): Promise<TokenPair> {
    return this.pair(await this.rotation.refresh(body.refreshToken, clientOf(req)));
  }

  /** Ends the session and denylists this very token, in the same Redis script that checks they are live. */
  @Post('auth/logout')
  @HttpCode(204)
  @SessionCheckedByHandler()
  logout(@CurrentUser() user: AuthenticatedUser): Promise<void> {
    return this.sessions.logout(user);
  }

  @Get('me')
  me(@CurrentUser() user: AuthenticatedUser) {
    return { id: user.id, role: user.role };
  }

  @Roles('admin')
  @Get('admin')
  admin() {
    return { admin: true };
  }

  private pair(session: IssuedSession): TokenPair {
    return {
      accessToken: this.accessTokens.issue(session.userId, session.sessionId, session.role),
      refreshToken: session.refreshToken,
    };
  }
}
