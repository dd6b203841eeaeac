#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { Command } from 'commander';
import { ImageCache, imageCacheName } from '../images/index.js';
import { buildSpec } from './build-spec.js';
import { Virsh, removeStaleVms } from '../libvirt/index.js';
import { importDomain, isDomainSpec, runDir } from '../api/internal.js';
import { createLogger } from '../log.js';
import { doctor } from './doctor.js';
import { registerExhibit } from './exhibit.js';
import { registerNetwork } from './network.js';
import { listImages, removeImage } from './image-list.js';
import { packageRoot, packageVersion } from './package-root.js';
import { pruneImages } from './prune.js';

const program = new Command()
  .name('demotool')
  .description('Scripted demos and screen tests of whole desktops in VMs')
  .version(packageVersion(), '-V, --version', 'print the demotool version')
  // `demotool exhibit --config F` and `demotool exhibit check --config F`: an option belongs to the command it follows.
  .enablePositionalOptions();

program
  .command('setup')
  .description('prepare this host: OS packages, libvirtd, qemu.conf, and the built-in images (idempotent; changes the host only with --yes)')
  .option('-y, --yes', 'install missing OS packages, start libvirtd and edit qemu.conf (else print the commands and stop)')
  .option('--desktop', 'build the debian-12-desktop image too')
  .option('--bench', "install the benchmark's packages too (vlc)")
  .option('--no-images', 'skip building the images')
  .action((opts: { yes?: boolean; desktop?: boolean; bench?: boolean; images: boolean }) => {
    // The script the repository's own setup runs too (scripts/host-setup.mjs): one code path.
    const script = path.join(packageRoot(), 'scripts', 'host-setup.mjs');
    const flags = [opts.yes && '--yes', opts.desktop && '--desktop', opts.bench && '--bench', !opts.images && '--no-images'].filter((f): f is string => !!f);
    const r = spawnSync(process.execPath, [script, ...flags], { stdio: 'inherit' });
    process.exitCode = r.status ?? 1;
  });

program
  .command('doctor')
  .description('check libvirt, KVM/TCG, qemu, ffmpeg, virt-builder and the image cache')
  .action(async () => {
    process.exitCode = (await doctor()) > 0 ? 1 : 0;
  });

const images = program.command('images').description('the base image cache');
images
  .command('build [name]')
  .description('build (or validate) a base image: tiny, debian-12-desktop, a virt-builder template like virt-builder:fedora-42, or a recipe (--recipe FILE)')
  .option('--recipe <file>', 'a recipe in YAML: a built-in image plus packages, files and first-boot commands (README, "Your own image: recipes")')
  .option('--rebuild', 'build it again; VMs running on the old build keep it until they are gone')
  .action(async (given: string | undefined, opts: { rebuild?: boolean; recipe?: string }) => {
    const spec = await buildSpec(given, opts.recipe);
    const name = typeof spec === 'string' ? spec : `recipe ${opts.recipe}`;
    const cache = new ImageCache();
    const started = Date.now();
    const before = opts.rebuild && typeof spec === 'string' ? (await cache.list()).find((i) => i.name === imageCacheName(spec))?.path : undefined;
    const image = await cache.ensure(spec, {
      rebuild: !!opts.rebuild,
      onProgress: ({ step, percent }) => console.log(`[${name}] ${step}${percent !== undefined ? ` ${Math.round(percent)}%` : ''}`),
    });
    if (opts.rebuild && image.path === before) {
      // ensure() fell back to the cached build (the failure is logged above): the rebuild failed.
      console.error(`[${name}] rebuild failed; the cached build is unchanged: ${image.path}`);
      process.exitCode = 1;
      return;
    }
    console.log(`[${name}] ready: ${image.path} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });
images
  .command('import <source>')
  .description(
    'convert a local disk file (qcow2, raw, vmdk, vdi) into the cache once, copy an ISO there (found by its content; booted as a CD), or record an existing libvirt domain (domain:NAME; its disk is never copied); print the image name to use',
  )
  .action(async (source: string) => {
    if (!isDomainSpec(source)) return console.log((await new ImageCache().importFile(source)).name);
    const { image, found } = await importDomain(new ImageCache(), source, createLogger('images'));
    const profile = found.hardware?.profile ?? 'modern-linux';
    console.error(`${image.name}: ${found.disk.path} (${found.disk.format}, never copied), ${profile}, ${found.memoryMiB} MiB, ${found.cpus} vCPUs`);
    console.log(source);
  });
images
  .command('list')
  .description('list cached images (name, size, last use, hardware profile, source, disk), then saved boots (key, size, last restore, image)')
  .action(listImages);
images
  .command('prune')
  .description(
    'remove images, saved boots and kernel unpacks not used for a while, then the least recently used while the cache is over a size (never one a VM stands on)',
  )
  .option('--unused-for <duration>', 'remove what was not used for this long, e.g. 30d, 12h, 2w')
  .option('--max-size <size>', 'then remove the least recently used (saved boots first, then images) until the cache fits, e.g. 8G, 500M')
  .action(pruneImages);
images.command('remove <name>').description('delete a cached image').action(removeImage);

program
  .command('cleanup')
  .description('remove VMs and overlays left behind by killed runs')
  .action(async () => {
    const removed = await removeStaleVms(new Virsh(), { runDir: runDir() });
    console.log(removed.length ? `removed: ${removed.join(', ')}` : 'nothing left behind');
  });

registerExhibit(program);
registerNetwork(program);

program.parseAsync().catch((e: Error) => {
  console.error(`demotool: ${e.message}`);
  process.exitCode = 1;
});
