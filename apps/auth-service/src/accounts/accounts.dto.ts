import { ApiProperty } from '@nestjs/swagger';
import { IsIn } from 'class-validator';
import type { Role } from '@lib/auth';
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
