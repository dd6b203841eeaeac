import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** A duration as `images prune --unused-for` takes it: a whole number and a unit, s m h d or w ('30d', '12h'). */
export function parseDuration(text: string): number {
  const m = /^(\d+)([smhdw])$/.exec(text.trim());
  if (!m) throw new UsageError(`Invalid duration ${JSON.stringify(text)}`, 'write a number and a unit: s, m, h, d or w (e.g. 30d, 12h, 2w)');
  return Number(m[1]) * (UNIT_MS[m[2] as string] as number);
}
