import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';

import type { Role } from '@nest-hardening/auth';
import { SecurityEvents } from '@nest-hardening/security-events';

import { AUTH_SERVICE_CONFIG, type AuthServiceConfig } from '../config/auth-service.config';
import { PasswordPolicy } from '../passwords/password-policy.service';
import { normalizeEmail } from './account-email';
import { AccountNotFoundError, EmailTakenError } from './accounts.errors';
import { PasswordHasher } from './password-hasher';
import { UsersRepository, type UserRow } from './users.repository';

/** Accounts: lookup by id (404 when absent), creation, and the idempotent bootstrap of the first admin. */
@Injectable()
export class AccountsService implements OnApplicationBootstrap {
  private readonly logger = new Logger(AccountsService.name);

  constructor(
    @Inject(AUTH_SERVICE_CONFIG) private readonly config: AuthServiceConfig,
    private readonly users: UsersRepository,
    private readonly hasher: PasswordHasher,
    private readonly passwordPolicy: PasswordPolicy,
    private readonly events: SecurityEvents,
  ) {}

  /** The account with this id; `AccountNotFoundError` (404) when there is none. */
  async getOrFail(id: string): Promise<UserRow> {
    const account = await this.users.findById(id);
    if (!account) throw new AccountNotFoundError();
    return account;
  }

  /** Refuses a weak password (also the bootstrap admin's: the service then fails to start) before hashing it. */
  async register(email: string, password: string, role: Role = 'user'): Promise<UserRow> {
    await this.passwordPolicy.assertAcceptable(password, { email });
    const created = await this.users.insert(normalizeEmail(email), await this.hasher.hash(password), role);
    if (!created) throw new EmailTakenError();
    this.events.emit({ type: 'account_created', severity: 'info', details: { userId: created.id, role } });
    return created;
  }

  async onApplicationBootstrap(): Promise<void> {
    const { BOOTSTRAP_ADMIN_EMAIL: email, BOOTSTRAP_ADMIN_PASSWORD: password } = this.config;
    if (!email || !password) return;
    const existing = await this.users.findByEmail(normalizeEmail(email));
    if (existing) return;
    try {
      await this.register(email, password, 'admin');
      this.logger.log('bootstrap admin account created from BOOTSTRAP_ADMIN_EMAIL');
    } catch (error) {
      // Another instance created it at the same moment: that is the idempotent outcome we want.
      if (!(error instanceof EmailTakenError)) throw error;
    }
  }
}
