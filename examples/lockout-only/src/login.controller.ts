import { Body, Controller, HttpCode, Post } from '@nestjs/common';

import { InvalidCredentialsError, LockoutProtected } from '@nest-hardening/lockout';

/** The app's own account check; a hard-coded demo user stands in for a user table and argon2. */
const DEMO_USER = { email: 'demo@example.com', password: 'correct horse battery staple' };

@Controller()
export class LoginController {
  @Post('login')
  @HttpCode(200)
  @LockoutProtected()
  login(@Body() body: { email?: string; password?: string }) {
    if (body.email !== DEMO_USER.email || body.password !== DEMO_USER.password) throw new InvalidCredentialsError();
    return { ok: true };
  }
}
