/**
 * Options are checked against a zod schema before anything happens, so a typo or a wrong type
 * is a UsageError that names the option, never a half-started VM or a NaN deep inside.
 */
import { z } from 'zod';
import { closestName } from './closest-name.js';
import { UsageError } from './errors.js';

export { z };

/**
 * `value` parsed by `schema` (undefined counts as `{}`); otherwise one UsageError naming every bad
 * option, e.g. `unknown watchdog option "escalation.maxRestart" (did you mean "escalation.maxRestarts"?)`
 * or `watchdog option checkInterval: Too big: expected number to be <=500`. A mistyped key or
 * enum value gets the nearest known one as a suggestion. `what` is the noun the options belong
 * to ('watchdog', 'record', 'VM', 'fixture'). Use strict objects, so typos are refused.
 */
export function parseOptions<S extends z.ZodType>(schema: S, value: unknown, what: string, hint?: string): z.output<S> {
  const result = schema.safeParse(value === undefined ? {} : value, { reportInput: true });
  if (result.success) return result.data;
  const problems: string[] = [];
  const hints: string[] = hint ? [hint] : [];
  for (const issue of result.error.issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeys(schema, path);
      for (const key of issue.keys) {
        const guess = closestName(key, known);
        problems.push(
          `unknown ${what} option ${JSON.stringify([...path, key].join('.'))}${guess ? ` (did you mean ${JSON.stringify([...path, guess].join('.'))}?)` : ''}`,
        );
      }
      if (known.length) hints.push(`known ${path.length ? `${path.join('.')} ` : ''}options: ${known.join(', ')}`);
    } else {
      const message = issue.message + suggestedValue(issue);
      problems.push(path.length ? `${what} option ${path.join('.')}: ${message}` : `${what} options: ${message}`);
    }
  }
  throw new UsageError(problems.join('; '), hints.join('; ') || undefined);
}

/** ' (did you mean "snapshot"?)' for a string one typo away from an allowed value, else ''. */
function suggestedValue(issue: z.core.$ZodIssue): string {
  if (issue.code !== 'invalid_value' || typeof issue.input !== 'string') return '';
  const guess = closestName(
    issue.input,
    issue.values.filter((v): v is string => typeof v === 'string'),
  );
  return guess === undefined ? '' : ` (did you mean ${JSON.stringify(guess)}?)`;
}

/**
 * The keys an object schema at `path` accepts (looking through optional, default, unions and
 * pipes). A key whose schema is z.never() is one the schema refuses (its error says where that
 * option goes instead), so it is not listed.
 */
function knownKeys(schema: z.ZodType, path: string[]): string[] {
  const objects = objectsIn(schema);
  if (path.length === 0)
    return objects.flatMap((o) => Object.entries(o.shape as Record<string, z.ZodType>).flatMap(([key, child]) => (refused(child) ? [] : [key])));
  const [head, ...rest] = path;
  return objects.flatMap((o) => {
    const child = (o.shape as Record<string, z.ZodType>)[head!];
    return child ? knownKeys(child, rest) : [];
  });
}

function refused(schema: z.ZodType): boolean {
  if (schema instanceof z.ZodOptional) return refused(schema.unwrap() as z.ZodType);
  return schema instanceof z.ZodNever;
}

function objectsIn(schema: z.ZodType): z.ZodObject[] {
  if (schema instanceof z.ZodObject) return [schema];
  if (schema instanceof z.ZodOptional || schema instanceof z.ZodNullable || schema instanceof z.ZodDefault) return objectsIn(schema.unwrap() as z.ZodType);
  if (schema instanceof z.ZodUnion) return (schema.options as z.ZodType[]).flatMap(objectsIn);
  // A preprocess is a pipe from a transform: its object is the pipe's output.
  if (schema instanceof z.ZodPipe) {
    const input = objectsIn(schema.in as z.ZodType);
    return input.length ? input : objectsIn(schema.out as z.ZodType);
  }
  return [];
}
