import { failureReason } from '@nest-hardening/errors';

/**
 * Runs an app's start-up and turns a failure into one readable line on stderr and exit code 1
 * (e.g. "Redis is not reachable at redis://127.0.0.1:6379 ... Start it with ..."), instead of a
 * stack trace.
 */
export function runApp(name: string, start: () => Promise<void>): void {
  start().catch((error: unknown) => {
    const message = failureReason(error);
    process.stderr.write(`${name}: failed to start: ${message}\n`);
    process.exit(1);
  });
}
