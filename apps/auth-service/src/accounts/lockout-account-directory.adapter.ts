import { Injectable } from '@nestjs/common';

import type { LockoutAccount, LockoutAccountDirectory } from '@nest-hardening/lockout';

import { UsersRepository } from './users.repository';

/** Lets the lockout library find the owner of an email (to notify) and an account's email (admin routes). */
@Injectable()
export class LockoutAccountDirectoryAdapter implements LockoutAccountDirectory {
  constructor(private readonly users: UsersRepository) {}

  async findById(id: string): Promise<LockoutAccount | null> {
    const user = await this.users.findById(id);
    return user ? { id: user.id, email: user.email } : null;
  }

  async findByEmail(email: string): Promise<LockoutAccount | null> {
    const user = await this.users.findByEmail(email);
    return user ? { id: user.id, email: user.email } : null;
  }
}
