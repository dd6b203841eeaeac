/** `demotool images prune`: its options, checked before anything is removed, and what it prints. */
import { parseByteSize } from '../byte-size.js';
import { UsageError } from '../errors.js';
import { ImageCache, type PruneResult } from '../images/index.js';
import { parseDuration } from './duration.js';
import { formatMiB } from './image-size.js';

export interface PruneFlags {
  unusedFor?: string;
  maxSize?: string;
}

export async function pruneImages(flags: PruneFlags): Promise<void> {
  if (flags.unusedFor === undefined && flags.maxSize === undefined)
    throw new UsageError('images prune needs --unused-for, --max-size or both', 'e.g. demotool images prune --unused-for 30d --max-size 8G');
  const result = await new ImageCache().prune({
    ...(flags.unusedFor !== undefined && { unusedForMs: parseDuration(flags.unusedFor) }),
    ...(flags.maxSize !== undefined && { maxSizeBytes: parseCacheSize(flags.maxSize) }),
  });
  for (const line of pruneReport(result)) console.log(line);
}

/** `--max-size`: '8G', '500M', '1.5T' (powers of 1024). */
function parseCacheSize(text: string): number {
  const bytes = parseByteSize(text);
  if (bytes === undefined)
    throw new UsageError(`Invalid size ${JSON.stringify(text)}`, 'write a number and a unit: K, M, G or T (powers of 1024), e.g. 8G or 500M');
  return bytes;
}

function pruneReport(r: PruneResult): string[] {
  const lines = [
    ...r.savedBoots.removed.map(
      (b) =>
        `removed saved boot ${b.key} (${formatMiB(b.sizeBytes)}, ${b.baseGone ? 'its image is gone' : `last used ${b.lastUsed.toISOString().slice(0, 10)}`})`,
    ),
    ...r.savedBoots.inUse.map((b) => `kept saved boot ${b.key}: in use`),
    ...r.removed.map((name) => `removed ${name}`),
    ...r.inUse.map((name) => `kept ${name}: in use`),
    ...r.kernels.map((dir) => `removed kernel unpack ${dir}`),
  ];
  if (!lines.length && !(r.size && r.size.beforeBytes > r.size.limitBytes)) lines.push('nothing to prune');
  if (r.size) {
    const { beforeBytes, afterBytes, limitBytes } = r.size;
    lines.push(`cache: ${formatMiB(afterBytes)}${afterBytes !== beforeBytes ? ` (was ${formatMiB(beforeBytes)})` : ''}, limit ${formatMiB(limitBytes)}`);
    if (afterBytes > limitBytes)
      lines.push(`still ${formatMiB(afterBytes - limitBytes)} over the limit: what is left is in use, placed by hand (never pruned), or a kernel unpack`);
  }
  return lines;
}
