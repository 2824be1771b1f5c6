import { Test } from '@nestjs/testing';
import type { Pool } from 'pg';

import { PG_POOL } from './database.constants';
import { DatabaseModule } from './database.module';

const POSTGRES = process.env.TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

describe('DatabaseModule on shutdown', () => {
  it('closes every pooled connection also when no query went through Kysely (only the start-up check and readiness ran)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [DatabaseModule.forRoot({ url: POSTGRES, migrateOnStart: false, migrationsDir: __dirname })],
    }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    const pool = app.get<Pool>(PG_POOL);
    await pool.query('SELECT 1'); // what the readiness check does

    await app.close();

    // An idle connection left open holds the event loop for the pool's idle timeout (30 s): a
    // process whose re-raised SIGTERM is ignored (PID 1 in a container) outlives its grace period.
    expect(pool.totalCount).toBe(0);
    expect(pool.ended).toBe(true);
  });
});
