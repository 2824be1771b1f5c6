import { z } from 'zod';

import { ConfigValidationError } from './config-validation.error';

export type Env = Record<string, string | undefined>;

/**
 * Validates `env` against `schema` and returns the typed result. Every problem is reported,
 * named by its environment variable, instead of failing on the first one.
 *
 * @example
 * const config = parseConfig('auth-service', authEnvSchema, process.env);
 */
export function parseConfig<S extends z.ZodType>(app: string, schema: S, env: Env): z.output<S> {
  // Empty strings mean "not set": `FOO= npm start` should fall back to the default.
  const cleaned: Env = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && value !== '') cleaned[key] = value;
  }
  const result = schema.safeParse(cleaned);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
    throw new ConfigValidationError(app, problems);
  }
  return result.data;
}
