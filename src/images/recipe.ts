/**
 * Recipes: a built-in image plus extra packages, files and first-boot commands (README, "Your
 * own image: recipes"). A recipe is checked by zod before anything happens; its image is cached
 * under a name derived from everything that goes into it, so an unchanged recipe is reused and
 * a changed one is a new image (the old one stays until `images prune`).
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../errors.js';
import { parseOptions, z } from '../option-schema.js';
import { recipeImageName } from './image-names.js';

/** A built-in image with more in it. Declared in code (`demo.vm(recipe)`) or YAML (`demotool images build --recipe FILE`). */
export interface ImageRecipe {
  /** The built-in image it starts from. */
  base: 'tiny' | 'debian-12-desktop';
  /**
   * Debian packages, from the host's apt sources (the guest never reaches a network). On the
   * desktop they are installed by the same mmdebstrap run as its own packages; on tiny (a busybox
   * initramfs) each is unpacked with its Depends/Pre-Depends closure (libc6 included), without
   * maintainer scripts: fine for programs, not for services that need configuring.
   */
  packages?: string[];
  /** Files put into the guest at build time: guest path → a host file (read when the recipe is used) or `{ content, mode }`. */
  files?: Record<string, string | { content: string; mode?: number }>;
  /**
   * Shell commands run as root inside the guest, in order, at the first boot of every VM made
   * from the image (each VM starts from a fresh copy of it), before the VM is reported ready. A
   * command that fails stops the rest (sh -e); the output goes to the serial log.
   */
  firstBoot?: string[];
}

/** A recipe with its host files read: what the builder puts in, and what the name is made of. */
export interface ResolvedRecipe {
  base: ImageRecipe['base'];
  packages: string[];
  files: { guestPath: string; data: Buffer; mode: number }[];
  firstBoot: string[];
  /** The cache name: `{base}-r-{12 hex}`. */
  name: string;
}

/** What the sidecar keeps of a recipe (no file contents): `images list` shows it. */
export interface RecipeSummary {
  base: string;
  packages: string[];
  files: string[];
  firstBoot: string[];
}

// Debian's package name rule (policy 5.6.1), lowercase.
const packageName = z.string().regex(/^[a-z0-9][a-z0-9+.-]+$/, 'a Debian package name, such as "hello" (lowercase letters, digits, + - .)');
const guestPath = z
  .string()
  .regex(/^\/[^\0]*[^/\0]$/, 'an absolute guest path of a file, such as "/usr/local/bin/app"')
  .refine((p) => !p.split('/').includes('..'), 'no ".." in a guest path');
const fileSource = z.union([
  z.string().min(1, 'a host file path'),
  z.strictObject({ content: z.string(), mode: z.number().int().min(0).max(0o7777).optional() }),
]);

export const imageRecipeSchema = z.strictObject({
  base: z.enum(['tiny', 'debian-12-desktop']),
  packages: z.array(packageName).optional(),
  files: z.record(z.string(), fileSource).optional(),
  firstBoot: z.array(z.string().min(1, 'a shell command')).optional(),
});

const RECIPE_HINT =
  "a recipe is { base: 'tiny' | 'debian-12-desktop', packages?: string[], files?: { '/guest/path': 'host/file' | { content, mode } }, firstBoot?: string[] }";

/** The recipe, checked; a UsageError naming the bad field (e.g. `image recipe option packages.0: ...`) otherwise. */
export function parseRecipe(value: unknown): ImageRecipe {
  const recipe = parseOptions(imageRecipeSchema, value, 'image recipe', RECIPE_HINT);
  for (const p of Object.keys(recipe.files ?? {}))
    if (!guestPath.safeParse(p).success)
      throw new UsageError(`image recipe option files: ${JSON.stringify(p)} is not an absolute guest path of a file`, RECIPE_HINT);
  return recipe;
}

/** A recipe in a YAML file, checked; its host files are named relative to the file. */
export async function loadRecipeFile(file: string): Promise<ImageRecipe> {
  const text = await fs.readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new UsageError(`recipe file ${file}: ${e.code === 'ENOENT' ? 'does not exist' : e.message}`, RECIPE_HINT);
  });
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (e) {
    throw new UsageError(`recipe file ${file} is not YAML: ${(e as Error).message}`, RECIPE_HINT);
  }
  const recipe = parseRecipe(value);
  const dir = path.dirname(path.resolve(file));
  if (recipe.files)
    recipe.files = Object.fromEntries(Object.entries(recipe.files).map(([g, src]) => [g, typeof src === 'string' ? path.resolve(dir, src) : src]));
  return recipe;
}

/** True for a recipe object (anything but a string image name). */
export function isRecipe(spec: unknown): spec is ImageRecipe {
  return typeof spec === 'object' && spec !== null;
}

/**
 * Reads the recipe's host files (relative ones from `baseDir`) and names the image.
 * `baseRecipe`: the built-in builder's recipe number (builders/index.ts recipeFor).
 */
export async function resolveRecipe(value: unknown, baseRecipe: (base: string) => number | undefined, baseDir = process.cwd()): Promise<ResolvedRecipe> {
  const recipe = parseRecipe(value);
  const files: ResolvedRecipe['files'] = [];
  for (const [guest, src] of Object.entries(recipe.files ?? {}).sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (typeof src !== 'string') {
      files.push({ guestPath: guest, data: Buffer.from(src.content), mode: src.mode ?? 0o644 });
      continue;
    }
    const host = path.resolve(baseDir, src);
    const st = await fs.stat(host).catch(() => undefined);
    if (!st?.isFile())
      throw new UsageError(
        `image recipe option files.${guest}: ${host} ${st ? 'is not a file' : 'does not exist'}`,
        'give a regular file on this host, or { content, mode }',
      );
    files.push({ guestPath: guest, data: await fs.readFile(host), mode: st.mode & 0o7777 });
  }
  const resolved = { base: recipe.base, packages: recipe.packages ?? [], files, firstBoot: recipe.firstBoot ?? [] };
  return { ...resolved, name: recipeImageName(resolved.base, recipeHash(resolved, baseRecipe(resolved.base) ?? 0)) };
}

/**
 * 12 hex digits of the sha256 of everything that makes the image: the canonical recipe (packages
 * in the order given, files sorted by guest path with their contents' sha256 and mode), and the
 * base's recipe number (a new demotool whose built-in image changed makes new recipe images too).
 */
function recipeHash(r: Omit<ResolvedRecipe, 'name'>, baseRecipe: number): string {
  const canonical = JSON.stringify({
    base: r.base,
    baseRecipe,
    packages: r.packages,
    files: r.files.map((f) => [f.guestPath, createHash('sha256').update(f.data).digest('hex'), f.mode]),
    firstBoot: r.firstBoot,
  });
  return createHash('sha256').update(canonical).digest('hex').slice(0, 12);
}

export function recipeSummary(r: ResolvedRecipe): RecipeSummary {
  return { base: r.base, packages: r.packages, files: r.files.map((f) => f.guestPath), firstBoot: r.firstBoot };
}

/** `images list`'s source: `recipe tiny (+hello +sash, 1 file, 1 first-boot command)`. */
export function recipeSource(s: RecipeSummary): string {
  const count = (n: number, what: string) => (n ? [`${n} ${what}${n === 1 ? '' : 's'}`] : []);
  const parts = [
    ...(s.packages.length ? [s.packages.map((p) => `+${p}`).join(' ')] : []),
    ...count(s.files.length, 'file'),
    ...count(s.firstBoot.length, 'first-boot command'),
  ];
  return `recipe ${s.base}${parts.length ? ` (${parts.join(', ')})` : ''}`;
}
