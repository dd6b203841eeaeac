/** `demotool images list` and `images remove`: what the cache holds, and taking one image out of it. */
import { closestName } from '../closest-name.js';
import { UsageError } from '../errors.js';
import { ImageCache, imageCacheName } from '../images/index.js';
import { formatMiB, shortDate } from './image-size.js';

/** The images (with a header naming the cache dir, or a line saying there are none), then the saved boots. */
export async function listImages(): Promise<void> {
  const cache = new ImageCache();
  const images = await cache.list();
  console.log(
    images.length
      ? `images in ${cache.dir}: name, size, last use, hardware profile, source, disk`
      : `no images in ${cache.dir} (\`npx demotool setup\` builds tiny; a test that boots an image builds it)`,
  );
  for (const i of images) {
    const used = i.lastUsed ? shortDate(i.lastUsed) : '-';
    console.log(`${i.name.padEnd(24)} ${formatMiB(i.sizeBytes).padStart(10)}  ${used.padEnd(16)}  ${(i.hardware ?? '-').padEnd(14)}  ${i.source}  ${i.path}`);
  }
  const saved = await cache.savedBoots();
  if (saved.length) console.log(`\nsaved boots (warm starts): key, size, last restore, image`);
  for (const b of saved)
    console.log(
      `${b.key.padEnd(24)} ${formatMiB(b.sizeBytes).padStart(10)}  ${shortDate(b.lastUsed).padEnd(16)}  ${b.image ?? `${b.baseGone ? 'its image is gone' : 'an older build'} (${b.base ?? 'unknown'})`}`,
    );
}

/** Removes a cached image and says so; a name the cache doesn't hold is refused (a typo would otherwise look like a removal). */
export async function removeImage(spec: string): Promise<void> {
  const cache = new ImageCache();
  const name = imageCacheName(spec);
  const names = (await cache.list()).map((i) => i.name);
  if (!names.includes(name)) {
    const guess = closestName(name, names);
    throw new UsageError(
      `no image ${JSON.stringify(name)} in ${cache.dir}${guess ? `: did you mean ${JSON.stringify(guess)}?` : ''}`,
      '`demotool images list` shows the cached images',
    );
  }
  await cache.remove(name);
  console.log(`removed ${name}`);
}
