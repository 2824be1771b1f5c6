import { resolve } from 'node:path';

/** auth-service's SQL migrations, relative to the working directory (the repository root, or /app in the image). */
export const AUTH_SERVICE_MIGRATIONS_DIR = resolve(process.cwd(), 'apps/auth-service/migrations');
