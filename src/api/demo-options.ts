import { ImageCache } from '../images/index.js';
import type { Logger } from '../log.js';
import { parseOptions, z } from '../option-schema.js';
import { validateRecordOptions, type RecordOptions } from '../record/index.js';

/** How `startDemo(name, options)` sets up a demo. Checked before anything happens. */
export interface DemoOptions {
  /** Output base; default `demo-videos/` under the current directory. */
  outputDir?: string;
  /** Where failure artifacts go (screenshots, diffs); default the demo directory. */
  artifactsDir?: string;
  /** Join recorded sections into `{demo}.mp4` with chapters when the demo ends (default true). */
  joinSections?: boolean;
  /** Where base images are found and built; default a cache in $XDG_CACHE_HOME/demotool. */
  imageCache?: ImageCache;
  /** Where the session logs; default a logger named `demo:{name}`. */
  log?: Logger;
}

const isLogger = (v: unknown): v is Logger =>
  typeof v === 'object' && v !== null && ['debug', 'info', 'warn', 'error', 'child'].every((m) => typeof (v as Record<string, unknown>)[m] === 'function');

/** The demo options' shapes; the fixtures check demoOutputDir with it too. */
export const demoOptionsSchema = z.strictObject({
  outputDir: z.string().min(1).optional(),
  artifactsDir: z.string().min(1).optional(),
  joinSections: z.boolean().optional(),
  imageCache: z.instanceof(ImageCache, { message: 'must be an ImageCache' }).optional(),
  log: z.custom<Logger>(isLogger, { message: 'must be a Logger (debug, info, warn, error, child)' }).optional(),
});

/** The options, checked: a typo or a wrong type is a UsageError naming the option. */
export function checkDemoOptions(options: DemoOptions | undefined): DemoOptions {
  return parseOptions(demoOptionsSchema, options, 'demo');
}

/** recordDemo's options: `{ vm, record, demo }`. Each part is checked by its own schema (the VM's when it boots, the demo's when it opens); here only that no other key is given. */
const recordDemoOptionsSchema = z.strictObject({ vm: z.unknown().optional(), record: z.unknown().optional(), demo: z.unknown().optional() });

/**
 * recordDemo's options, checked before the demo opens or the VM boots: an unknown key (say a
 * record option one level too high, `{ fps: 30 }`) or a bad record option is a UsageError.
 */
export function checkRecordDemoOptions(options: unknown): void {
  const o = parseOptions(recordDemoOptionsSchema, options, 'recordDemo', 'each option goes under vm, record or demo, e.g. { record: { fps: 30 } }');
  if (o.record !== undefined) validateRecordOptions(o.record as RecordOptions);
}
