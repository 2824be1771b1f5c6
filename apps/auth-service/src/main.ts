import { ensureDatabase, runMigrations } from '@nest-hardening/database';
import { runApp } from '@nest-hardening/http-app';

import { createAuthServiceApp } from './auth-service.app';
import { loadAuthServiceConfig, parseAuthServiceEnv } from './config/auth-service.config';
import { AUTH_SERVICE_MIGRATIONS_DIR } from './database/auth-migrations';

// `node main.js migrate` creates the database if needed, applies pending migrations and exits.
const command = process.argv[2];

runApp('auth-service', async () => {
  if (command === 'migrate') {
    const { DATABASE_URL } = parseAuthServiceEnv(process.env);
    await ensureDatabase(DATABASE_URL);
    const applied = await runMigrations(DATABASE_URL, AUTH_SERVICE_MIGRATIONS_DIR);
    process.stdout.write(`migrations: ${applied.length ? applied.join(', ') : 'none pending'}\n`);
    return;
  }
  const config = loadAuthServiceConfig(process.env);
  const app = await createAuthServiceApp(config);
  await app.listen(config.PORT, config.HOST);
});
