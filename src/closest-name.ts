/**
 * "Did you mean ...?": the known name a mistyped one is most likely a typo of. One helper for
 * every such suggestion (option keys and values; image names and exhibit config keys may use it too).
 */

/**
 * Optimal string alignment distance: Levenshtein plus the swap of two neighbours, so
 * 'netwrok' is one edit from 'network'.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  const at = (i: number, j: number) => d[i]?.[j] ?? Infinity;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, at(i - 2, j - 2) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The name in `known` nearest to `name` (ignoring case), when close enough to be a typo: at
 * most 1 edit per 3 letters of the known name (and at least 1), fewer edits than its length.
 * Undefined when none is that close, or when `name` is itself known.
 */
export function closestName(name: string, known: readonly string[]): string | undefined {
  if (known.includes(name)) return undefined;
  let best: { name: string; distance: number } | undefined;
  for (const candidate of known) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    const allowed = Math.min(Math.max(1, Math.floor(candidate.length / 3)), candidate.length - 1);
    if (distance <= allowed && (!best || distance < best.distance)) best = { name: candidate, distance };
  }
  return best?.name;
}
