/**
 * Options are checked against a zod schema before anything happens, so a typo or a wrong type
 * is a UsageError that names the option, never a half-started VM or a NaN deep inside.
 */
import { z } from 'zod';
import { UsageError } from './errors.js';

export { z };

/** `value` parsed by `schema`; otherwise a UsageError listing each bad option as `what.path: problem`. */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string, hint?: string): z.output<S> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => `${[what, ...issue.path.map(String)].join('.')}: ${issue.message}`);
  throw new UsageError(`bad ${what}: ${problems.join('; ')}`, hint);
}

/** A timeout in milliseconds: 0 or Infinity mean no limit. */
export const timeoutMs = z.number().nonnegative();
