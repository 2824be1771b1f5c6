import { Injectable } from '@nestjs/common';

import { InsufficientRoleError, type AuthenticatedUser, type Role } from '@nest-hardening/auth';
import { SecurityEvents } from '@nest-hardening/security-events';
import { SessionsService, type AuthorizationChange } from '@nest-hardening/sessions';

import { AccountNotFoundError, LastAdminError, SelfAdministrationError } from './accounts.errors';
import { UsersRepository, type AccountStatus, type GuardedUpdate, type UserRow } from './users.repository';

/**
 * What admins do to other accounts. Every change to what an account may do moves it to a new
 * authorization version and ends its sessions before the answer, so a demoted or disabled account
 * holds no usable token anywhere within the revocation-propagation bound (pub/sub, cache ≤ 1 s),
 * and no refresh can mint the old role.
 */
@Injectable()
export class AccountAdministrationService {
  constructor(
    private readonly users: UsersRepository,
    private readonly sessions: SessionsService,
    private readonly events: SecurityEvents,
  ) {}

  changeRole(admin: AuthenticatedUser, id: string, role: Role): Promise<UserRow> {
    return this.change(admin, id, { role }, 'role_change');
  }

  changeStatus(admin: AuthenticatedUser, id: string, status: AccountStatus): Promise<UserRow> {
    return this.change(admin, id, { status }, 'status_change');
  }

  /** Ends every session of the account; a login in flight cannot add one afterwards. */
  async endAllSessions(admin: AuthenticatedUser, id: string): Promise<void> {
    const version = await this.users.bumpAuthVersion(id);
    if (version === undefined) throw new AccountNotFoundError();
    await this.sessions.endForAuthorizationChange(id, version, { reason: 'admin', actorId: admin.id });
  }

  private async change(
    admin: AuthenticatedUser,
    id: string,
    change: { role?: Role; status?: AccountStatus },
    reason: AuthorizationChange['reason'],
  ): Promise<UserRow> {
    if (id === admin.id) throw new SelfAdministrationError();
    const result = await this.users.updateRoleOrStatus(id, change, admin.id);
    if ('refused' in result) throw refusal(result.refused);
    const account = result.updated;
    // Recorded once committed: the change is in force even if publishing it below fails (it is retried).
    this.events.emit({
      type: reason === 'role_change' ? 'account_role_changed' : 'account_status_changed',
      severity: 'warning',
      details: { accountId: account.id, adminId: admin.id, role: account.role, status: account.status },
    });
    // The stored id, not the one asked for: session keys are case-sensitive.
    await this.sessions.endForAuthorizationChange(account.id, account.auth_version, { reason, actorId: admin.id });
    return account;
  }
}

function refusal(reason: Extract<GuardedUpdate, { refused: unknown }>['refused']): Error {
  // Demoted or disabled after this request was admitted: answered as the roles guard would now.
  if (reason === 'not_admin') return new InsufficientRoleError();
  return reason === 'not_found' ? new AccountNotFoundError() : new LastAdminError();
}
