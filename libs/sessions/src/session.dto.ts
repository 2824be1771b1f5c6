import { ApiProperty } from '@nestjs/swagger';

import type { Session } from './session.interface';

/** What a client may see of a session: never a token, a token hash or a fingerprint. */
export class SessionDto {
  @ApiProperty() id!: string;
  @ApiProperty({ description: 'true for the session the request was made with' }) current!: boolean;
  @ApiProperty() createdAt!: string;
  @ApiProperty({ description: 'last login or refresh' }) lastSeenAt!: string;
  @ApiProperty({ description: 'when the session ends unless refreshed (never after the absolute limit)' }) expiresAt!: string;
  @ApiProperty() ip!: string;
  @ApiProperty({ example: 'Firefox 128 on Windows' }) device!: string;
}

export function mapSession(session: Session, currentSessionId: string): SessionDto {
  return {
    id: session.id,
    current: session.id === currentSessionId,
    createdAt: session.createdAt.toISOString(),
    lastSeenAt: session.lastSeenAt.toISOString(),
    expiresAt: session.expiresAt.toISOString(),
    ip: session.ip,
    device: session.device,
  };
}
