/** An image's entry in the cache dir: whether it is there, whether it is sound, and the BaseImage it describes. */
import { checkImage, exists, type Checked } from './image-check.js';
import type { ImageBuilds } from './image-builds.js';
import { imageFiles } from './image-names.js';
import { fromSidecar, readSidecar } from './sidecar.js';
import type { BaseImage } from './types.js';

/** Default account of images demotool builds with virt-builder: the user the desktop logs in as. */
const DEMO_USER = { name: 'demo', password: 'demokudasaidomo' };

/** Whether `name` has a sidecar or a build in `dir`, and whether its current build is sound. */
export async function findImage(dir: string, builds: ImageBuilds, name: string): Promise<{ exists: boolean; validation: Checked }> {
  const f = imageFiles(dir, name);
  const found = (await exists(f.sidecar)) || (await builds.of(name)).size > 0;
  return { exists: found, validation: await checkImage(dir, name) };
}

/** BaseImage of a valid cached image. Images placed by hand (no sidecar) get virt-builder defaults. */
export async function loadImage(dir: string, name: string): Promise<BaseImage> {
  const f = imageFiles(dir, name);
  if (await exists(f.sidecar)) return fromSidecar(await readSidecar(f.sidecar), f.qcow2);
  return { name, path: f.qcow2, guestAgent: false, user: DEMO_USER };
}
