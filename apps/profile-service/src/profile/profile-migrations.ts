import { resolve } from 'node:path';

/** profile-service's SQL migrations, relative to the working directory (the repository root, or /app in the image). */
export const PROFILE_SERVICE_MIGRATIONS_DIR = resolve(process.cwd(), 'apps/profile-service/migrations');
