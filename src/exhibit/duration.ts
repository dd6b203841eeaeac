/**
 * Durations as a config file writes them: '500ms', '15s', '12m', '1h' (decimals allowed, e.g.
 * '1.5s'), or a number of milliseconds. A string without a unit is refused in the file, where a
 * bare 15 could mean seconds or milliseconds; an environment variable may be digits (milliseconds),
 * since environment values are always strings.
 */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 } as const;
const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;

/** Milliseconds, or a reason the text is not a duration. */
export function parseDuration(text: string, options: { bareMs?: boolean } = {}): number | { error: string } {
  const trimmed = text.trim();
  if (options.bareMs && /^\d+$/.test(trimmed)) return Number(trimmed);
  const match = DURATION.exec(trimmed);
  if (!match) return { error: `${JSON.stringify(text)} is not a duration: write a number and a unit (ms, s, m or h), e.g. '15s', '12m', '500ms'` };
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}
