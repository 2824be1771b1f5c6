import { All, Controller, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { Request, Response } from 'express';

import { Public } from '@nest-hardening/auth';
import { RateLimitPolicy } from '@nest-hardening/rate-limit';

import { Upstreams } from './upstreams';

/**
 * The route table of the gateway. Guards run first (token verification unless `@Public()`, then
 * the rate-limit policies), and only then is the request streamed to its service. A credential
 * request the service refuses as malformed (400, 413, 415) is moved off the login budget onto the
 * per-address malformed budget. Paths not
 * listed here are answered 404 by the gateway itself and reach no service.
 */
@ApiExcludeController()
@Controller()
export class GatewayController {
  constructor(private readonly upstreams: Upstreams) {}

  // The credential routes serve POST only: any other method is a 404 that spends no login budget.
  @Public()
  @RateLimitPolicy('auth')
  @Post(['auth/login', 'auth/register'])
  credentials(@Req() req: Request, @Res() res: Response): void {
    this.upstreams.auth.forward(req, res);
  }

  @Public()
  @RateLimitPolicy('refresh')
  @Post('auth/refresh')
  refresh(@Req() req: Request, @Res() res: Response): void {
    this.upstreams.auth.forward(req, res);
  }

  /** A password change checks the current password: it spends the login budget too. */
  @RateLimitPolicy('auth')
  @Post('auth/password')
  password(@Req() req: Request, @Res() res: Response): void {
    this.upstreams.auth.forward(req, res);
  }

  @All(['auth/logout', 'me', 'me/*path', 'accounts', 'accounts/*path'])
  auth(@Req() req: Request, @Res() res: Response): void {
    this.upstreams.auth.forward(req, res);
  }

  @RateLimitPolicy('profile')
  @All(['profile', 'profile/*path'])
  profile(@Req() req: Request, @Res() res: Response): void {
    this.upstreams.profile.forward(req, res);
  }
}
