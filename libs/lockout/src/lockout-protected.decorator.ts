import { applyDecorators, SetMetadata, UseGuards, UseInterceptors } from '@nestjs/common';

import { LockoutSettlementInterceptor } from './lockout-settlement.interceptor';
import { LOCKOUT_SUBJECT_SOURCE, type LockoutSubjectSource } from './lockout-subject-source';
import { LockoutGuard } from './lockout.guard';

/**
 * Protects a handler that checks a password: {@link LockoutGuard} reserves the attempt atomically
 * before the handler runs (or answers 429), and {@link LockoutSettlementInterceptor} settles it from
 * the handler's outcome: a result is a success, an {@link InvalidCredentialsError} a failure, any
 * other error gives the attempt back (the password was not judged).
 *
 * @example
 * @Post('login') @LockoutProtected()
 * login(@Body() dto: LoginDto) { return this.auth.login(dto); } // throws InvalidCredentialsError on a wrong password
 */
export const LockoutProtected = (subject: LockoutSubjectSource = 'body-email') =>
  applyDecorators(SetMetadata(LOCKOUT_SUBJECT_SOURCE, subject), UseGuards(LockoutGuard), UseInterceptors(LockoutSettlementInterceptor));
