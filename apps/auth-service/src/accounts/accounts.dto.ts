import { ApiProperty, OmitType } from '@nestjs/swagger';
import { IsIn } from 'class-validator';

import type { Role } from '@nest-hardening/auth';
import { LockoutAddressStateDto, LockoutStateDto } from '@nest-hardening/lockout';

import type { AccountStatus, UserRow } from './users.repository';

const ROLES: Role[] = ['user', 'admin'];
const STATUSES: AccountStatus[] = ['active', 'disabled'];

export class ChangeRoleDto {
  @ApiProperty({ enum: ROLES })
  @IsIn(ROLES)
  role!: Role;
}

export class ChangeStatusDto {
  @ApiProperty({ enum: STATUSES })
  @IsIn(STATUSES)
  status!: AccountStatus;
}

/** What an admin sees of an account: never the password hash or the authorization version. */
export class AccountDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ROLES }) role!: Role;
  @ApiProperty({ enum: STATUSES }) status!: AccountStatus;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ nullable: true, type: String }) lastLoginAt!: string | null;
}

/** An account in a listing, with its live lockout state. */
export class AccountSummaryDto extends AccountDto {
  @ApiProperty({ description: 'any lock of the account is active (an address pair or the account-wide lock)' }) locked!: boolean;
  @ApiProperty({ nullable: true, type: String }) lockedUntil!: string | null;
}

export class AccountPageDto {
  @ApiProperty({ type: [AccountSummaryDto] }) items!: AccountSummaryDto[];
  @ApiProperty({ nullable: true, type: String, description: 'pass as `cursor` for the next (older) page' }) nextCursor!: string | null;
}

/** An address of a lockout view (`AddressView`): the keyed hash beside where it failed from. */
export class AddressViewDto extends LockoutAddressStateDto {
  @ApiProperty({ type: String, nullable: true, description: '/24 (IPv4) or /48 (IPv6) network, from the audit trail; never the address' })
  network!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) firstFailureAt!: string | null;
  @ApiProperty({ type: String, format: 'date-time', nullable: true }) lastFailureAt!: string | null;
  @ApiProperty({ type: 'integer', description: 'failed logins from this address in the audit trail, not only the current window' })
  failureCount!: number;
}

/** An account's lockout state as an admin sees it (`LockoutView`). */
export class LockoutViewDto extends OmitType(LockoutStateDto, ['addresses'] as const) {
  @ApiProperty({ type: [AddressViewDto] }) addresses!: AddressViewDto[];
}

/** What an unlock answers: the state it cleared. */
export class ClearedLockoutViewDto {
  @ApiProperty({ type: LockoutViewDto }) cleared!: LockoutViewDto;
}

export function mapAccount(row: UserRow): AccountDto {
  return {
    id: row.id,
    email: row.email,
    role: row.role,
    status: row.status,
    createdAt: row.created_at.toISOString(),
    lastLoginAt: row.last_login_at?.toISOString() ?? null,
  };
}
