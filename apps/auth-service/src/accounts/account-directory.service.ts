import { Injectable } from '@nestjs/common';

import { LockoutService, type LockoutAddressState, type LockoutState } from '@nest-hardening/lockout';

import { AuditTrail } from '../audit/audit-trail';
import { SecurityEventsRepository } from '../audit/security-events.repository';
import { DEFAULT_PAGE_LIMIT } from '../paging/page-limit.decorator';
import { normalizeEmail } from './account-email';
import type { AccountListQuery } from './account-list.query';
import { mapAccount, type AccountPageDto, type AccountSummaryDto } from './accounts.dto';
import { decodeListCursor, encodeListCursor } from './list-cursor';
import { UsersRepository, type ListCursor, type UserRow } from './users.repository';

/** An address of a locked account as an admin sees it: the keyed hash beside where it failed from. */
export interface AddressView extends LockoutAddressState {
  /** /24 (IPv4) or /48 (IPv6) network of the address, from the audit trail; never the address. */
  network: string | null;
  firstFailureAt: Date | null;
  lastFailureAt: Date | null;
  /** Failed logins from this address in the audit trail (the retention period), not only the current window. */
  failureCount: number;
}

export interface LockoutView extends Omit<LockoutState, 'addresses'> {
  addresses: AddressView[];
}

/** How admins find accounts: by email, by status, and what their lockout state looks like. */
@Injectable()
export class AccountDirectory {
  constructor(
    private readonly users: UsersRepository,
    private readonly lockout: LockoutService,
    private readonly audit: SecurityEventsRepository,
    private readonly trail: AuditTrail,
  ) {}

  async list(query: AccountListQuery): Promise<AccountPageDto> {
    // Last logins and the lock index are kept by the audit trail's writes: read after them.
    await this.trail.flush();
    const limit = query.limit ?? DEFAULT_PAGE_LIMIT;
    if (query.email !== undefined) {
      const row = await this.users.findByEmail(normalizeEmail(query.email));
      const item = row ? await this.summary(row) : undefined;
      // `status` narrows the match as it narrows a listing: `?email=x&status=locked` asks whether x is locked.
      return { items: item && hasStatus(item, query.status) ? [item] : [], nextCursor: null };
    }
    const after = query.cursor ? decodeListCursor(query.cursor) : undefined;
    if (query.status === 'locked') return this.listLocked(after, limit);
    const rows = await this.users.listNewest({ status: query.status, after, limit });
    return {
      items: await Promise.all(rows.map((row) => this.summary(row))),
      nextCursor:
        rows.length === limit
          ? encodeListCursor({ at: rows[rows.length - 1].created_at.toISOString(), id: rows[rows.length - 1].id })
          : null,
    };
  }

  /** The lock state with each address's network and failure history beside its keyed hash. */
  async lockoutView(account: UserRow, state?: LockoutState): Promise<LockoutView> {
    const current = state ?? (await this.lockout.getState(account.email));
    await this.trail.flush();
    const history = await this.audit.addressHistory(
      account.id,
      current.addresses.map((a) => a.address),
    );
    const byAddress = new Map(history.map((h) => [h.address, h]));
    return {
      ...current,
      addresses: current.addresses.map((address) => {
        const seen = byAddress.get(address.address);
        return {
          ...address,
          network: seen?.network ?? null,
          firstFailureAt: seen?.firstFailureAt ?? null,
          lastFailureAt: seen?.lastFailureAt ?? null,
          failureCount: seen?.failureCount ?? 0,
        };
      }),
    };
  }

  /**
   * Locked accounts from the index the audit trail keeps (no scan of Redis), most recently locked
   * first. The live state decides: an entry whose lock has ended is dropped from the index.
   */
  private async listLocked(after: ListCursor | undefined, limit: number): Promise<AccountPageDto> {
    const rows = await this.users.listLocked({ after, limit });
    const summaries = await Promise.all(rows.map((row) => this.summary(row)));
    // The entries as read: a lock recorded since has written a new version of its entry and stays listed.
    await this.audit.forgetEndedLocks(
      rows.filter((_, i) => !summaries[i].locked).map((row) => ({ accountId: row.id, lockVersion: row.lock_version })),
    );
    const last = rows[rows.length - 1];
    return {
      items: summaries.filter((s) => s.locked),
      nextCursor: rows.length === limit ? encodeListCursor({ at: last.locked_at.toISOString(), id: last.id }) : null,
    };
  }

  private async summary(row: UserRow): Promise<AccountSummaryDto> {
    const state = await this.lockout.getState(row.email);
    return { ...mapAccount(row), locked: state.locked, lockedUntil: state.lockedUntil?.toISOString() ?? null };
  }
}

function hasStatus(account: AccountSummaryDto, status: AccountListQuery['status']): boolean {
  if (status === 'locked') return account.locked;
  if (status === 'disabled') return account.status === 'disabled';
  return true;
}
