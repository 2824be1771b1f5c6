import { Module } from '@nestjs/common';

import { LockoutAccountDirectoryAdapter } from './lockout-account-directory.adapter';
import { UsersRepository } from './users.repository';

/** The users table and its adapters, importable by library modules configured with forRootAsync. */
@Module({
  providers: [UsersRepository, LockoutAccountDirectoryAdapter],
  exports: [UsersRepository, LockoutAccountDirectoryAdapter],
})
export class UsersModule {}
