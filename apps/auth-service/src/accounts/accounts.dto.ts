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
}

export function mapAccount(row: UserRow): AccountDto {
  return { id: row.id, email: row.email, role: row.role, status: row.status, createdAt: row.created_at.toISOString() };
}
