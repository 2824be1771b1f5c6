import { Logger } from '@nestjs/common';

/** Logs one warning per secret that got a development value because it was not configured. */
export function warnAboutDevSecrets(generated: readonly string[], keysDir: string): void {
  for (const name of generated) {
    new Logger('Config').warn(`${name} is not set: using a development value from ${keysDir}. Set it in production.`);
  }
}
