import { ApiProperty } from '@nestjs/swagger';

/** The caller's own account, as `GET /me` answers it. */
export class MeDto {
  @ApiProperty() id!: string;
  @ApiProperty() email!: string;
  @ApiProperty({ enum: ['user', 'admin'] }) role!: 'user' | 'admin';
}
