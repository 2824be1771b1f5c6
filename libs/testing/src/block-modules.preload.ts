import Module from 'node:module';

/**
 * Preloaded (`node -r`) by {@link runWithoutModules}: makes the packages named in
 * `BLOCKED_MODULES` (comma-separated) unresolvable, exactly as if they were not installed.
 */
const blocked = new Set((process.env.BLOCKED_MODULES ?? '').split(',').filter(Boolean));
const internal = Module as unknown as { _resolveFilename(request: string, ...rest: unknown[]): string };
// eslint-disable-next-line @typescript-eslint/unbound-method -- wrapped below and called with its receiver
const resolve = internal._resolveFilename;
internal._resolveFilename = function (request: string, ...rest: unknown[]): string {
  const name = request.startsWith('@') ? request.split('/').slice(0, 2).join('/') : request.split('/')[0];
  if (blocked.has(name)) throw Object.assign(new Error(`Cannot find module '${request}'`), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
