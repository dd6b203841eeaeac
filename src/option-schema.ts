/**
 * Options are checked against a zod schema before anything happens, so a typo or a wrong type
 * is a UsageError that names the option, never a half-started VM or a NaN deep inside.
 */
import { z } from 'zod';
import { UsageError } from './errors.js';

export { z };

/**
 * `value` parsed by `schema` (undefined counts as `{}`); otherwise one UsageError naming every bad
 * option, e.g. `unknown watchdog option "escalation.maxRestart"` or
 * `watchdog option checkInterval: Too big: expected number to be <=500`. `what` is the noun the
 * options belong to ('watchdog', 'record', 'vm'). Use strict objects, so typos are refused.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string, hint?: string): z.output<S> {
  const result = schema.safeParse(value === undefined ? {} : value);
  if (result.success) return result.data;
  const problems: string[] = [];
  const hints: string[] = hint ? [hint] : [];
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push(`unknown ${what} option ${JSON.stringify([...path, key].join('.'))}`);
      const known = knownKeys(schema, path);
      if (known.length) hints.push(`known ${path.length ? `${path.join('.')} ` : ''}options: ${known.join(', ')}`);
    } else {
      problems.push(path.length ? `${what} option ${path.join('.')}: ${issue.message}` : `${what} options: ${issue.message}`);
    }
  }
  throw new UsageError(problems.join('; '), hints.join('; ') || undefined);
}

/** The keys an object schema at `path` accepts (looking through optional, default and unions). */
function knownKeys(schema: z.ZodType, path: string[]): string[] {
  const objects = objectsIn(schema);
  if (path.length === 0) return objects.flatMap((o) => Object.keys(o.shape));
  const [head, ...rest] = path;
  return objects.flatMap((o) => {
    const child = (o.shape as Record<string, z.ZodType>)[head!];
    return child ? knownKeys(child, rest) : [];
  });
}

function objectsIn(schema: z.ZodType): z.ZodObject[] {
  if (schema instanceof z.ZodObject) return [schema];
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) return objectsIn(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).flatMap(objectsIn);
  if (schema instanceof z.ZodPipe) return objectsIn(schema.in as z.ZodType);
  return [];
}
