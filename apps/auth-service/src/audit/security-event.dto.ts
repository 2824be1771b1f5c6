import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import type { SecurityEventRow } from './security-events.repository';

/** An account's security event as an admin sees it. */
export class SecurityEventDto {
  @ApiProperty() id!: string;
  @ApiProperty() at!: string;
  @ApiProperty({ example: 'login_failed' }) type!: string;
  @ApiPropertyOptional({ type: String, nullable: true, description: 'the admin who acted, for admin actions' }) actorId!: string | null;
  @ApiPropertyOptional({
    type: String,
    nullable: true,
    example: '203.0.113.0/24',
    description: '/24 (IPv4) or /48 (IPv6): never a full address',
  })
  network!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'Firefox 128 on Windows' }) device!: string | null;
  @ApiProperty({ type: 'object', additionalProperties: true }) details!: Record<string, unknown>;
}

/** What a user sees of their own account's events: what happened, when, from where. */
export class ActivityDto {
  @ApiProperty() id!: string;
  @ApiProperty() at!: string;
  @ApiProperty({ example: 'login_succeeded' }) type!: string;
  @ApiPropertyOptional({ type: String, nullable: true, example: '203.0.113.0/24' }) network!: string | null;
  @ApiPropertyOptional({ type: String, nullable: true, example: 'Firefox 128 on Windows' }) device!: string | null;
  @ApiProperty({ description: 'true when an admin did it' }) byAdmin!: boolean;
}

export class Page<T> {
  items!: T[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor!: string | null;
}

export class SecurityEventPageDto extends Page<SecurityEventDto> {
  @ApiProperty({ type: [SecurityEventDto] }) declare items: SecurityEventDto[];
  @ApiProperty({ nullable: true, type: String }) declare nextCursor: string | null;
}

export class ActivityPageDto extends Page<ActivityDto> {
  @ApiProperty({ type: [ActivityDto] }) declare items: ActivityDto[];
  @ApiProperty({ nullable: true, type: String }) declare nextCursor: string | null;
}

export function mapSecurityEvent(row: SecurityEventRow): SecurityEventDto {
  return {
    id: String(row.id),
    at: row.at.toISOString(),
    type: row.type,
    actorId: row.actor_id,
    network: row.network,
    device: row.device,
    details: row.details,
  };
}

export function mapActivity(row: SecurityEventRow): ActivityDto {
  return {
    id: String(row.id),
    at: row.at.toISOString(),
    type: row.type,
    network: row.network,
    device: row.device,
    byAdmin: row.actor_id !== null,
  };
}
