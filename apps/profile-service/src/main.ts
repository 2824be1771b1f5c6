import { ensureDatabase, runMigrations } from '@nest-hardening/database';
import { runApp } from '@nest-hardening/http-app';

import { loadProfileServiceConfig, parseProfileServiceEnv } from './config/profile-service.config';
import { createProfileServiceApp } from './profile-service.app';
import { PROFILE_SERVICE_MIGRATIONS_DIR } from './profile/profile-migrations';

// `node main.js migrate` creates the database if needed, applies pending migrations and exits.
const command = process.argv[2];

runApp('profile-service', async () => {
  if (command === 'migrate') {
    const { DATABASE_URL } = parseProfileServiceEnv(process.env);
    await ensureDatabase(DATABASE_URL);
    const applied = await runMigrations(DATABASE_URL, PROFILE_SERVICE_MIGRATIONS_DIR);
    process.stdout.write(`migrations: ${applied.length ? applied.join(', ') : 'none pending'}\n`);
    return;
  }
  const config = loadProfileServiceConfig(process.env);
  const app = await createProfileServiceApp(config);
  await app.listen(config.PORT, config.HOST);
});
