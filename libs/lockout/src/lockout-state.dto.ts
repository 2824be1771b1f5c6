import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

import type { LockoutAddressState, LockoutIpState, LockoutState } from './lockout-state.interface';

const instant = (description?: string) => ApiProperty({ type: String, format: 'date-time', nullable: true, description });

/** The OpenAPI description of {@link LockoutAddressState} as it is sent (dates as ISO strings). */
export class LockoutAddressStateDto implements Record<keyof LockoutAddressState, unknown> {
  @ApiProperty({ description: 'keyed hash of the address; the raw address is not stored' }) address!: string;
  @ApiProperty() locked!: boolean;
  @instant() lockedUntil!: string | null;
  @ApiProperty({ type: 'integer', description: 'pair locks in the current backoff run' }) backoffLevel!: number;
  @ApiProperty({ type: 'integer' }) failures!: number;
  @ApiProperty({ type: 'integer', description: 'attempts reserved and still being verified' }) pending!: number;
  @instant('last successful login from this address, while it is remembered as known') lastSuccessAt!: string | null;
}

/** The OpenAPI description of {@link LockoutIpState} as it is sent. */
export class LockoutIpStateDto implements Record<keyof LockoutIpState, unknown> {
  @ApiProperty() address!: string;
  @ApiProperty() blocked!: boolean;
  @instant() blockedUntil!: string | null;
  @ApiProperty({ type: 'integer' }) failures!: number;
  @ApiProperty({ type: 'integer' }) pending!: number;
}

/** The OpenAPI description of {@link LockoutState} as it is sent. */
export class LockoutStateDto implements Record<Exclude<keyof LockoutState, 'ip'>, unknown> {
  @ApiProperty({ description: 'the account-wide lock or any address lock is active' }) locked!: boolean;
  @instant('the latest end among the active locks') lockedUntil!: string | null;
  @ApiProperty() emailLocked!: boolean;
  @instant() emailLockedUntil!: string | null;
  @ApiProperty({ type: 'integer', description: 'consecutive failures since the last successful login' }) emailFailures!: number;
  @ApiProperty({ type: 'integer' }) emailPending!: number;
  @ApiProperty({ type: 'integer', description: 'the highest backoff level among the addresses' }) backoffLevel!: number;
  @ApiProperty({ type: [LockoutAddressStateDto], description: 'the most recent addresses, at most the address cap (1,000 by default)' })
  addresses!: LockoutAddressStateDto[];
  @ApiPropertyOptional({ type: LockoutIpStateDto }) ip?: LockoutIpStateDto;
}
