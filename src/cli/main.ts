#!/usr/bin/env node
import { Command } from 'commander';
import { ImageCache } from '../images/index.js';
import { Virsh, removeStaleVms } from '../libvirt/index.js';
import { runDir } from '../api/state-directories.js';
import { doctor } from './doctor.js';

const program = new Command()
  .name('demotool')
  .description('Scripted demos and screen tests of whole desktops in VMs');

program
  .command('doctor')
  .description('check libvirt, KVM/TCG, qemu, ffmpeg, virt-builder and the image cache')
  .action(async () => {
    process.exitCode = (await doctor()) > 0 ? 1 : 0;
  });

const images = program.command('images').description('the base image cache');
images
  .command('build <name>')
  .description('build (or validate) a base image: tiny, debian-12-desktop, or a virt-builder template like fedora-42')
  .option('--rebuild', 'build it again; VMs running on the old build keep it until they are gone')
  .action(async (name: string, opts: { rebuild?: boolean }) => {
    const cache = new ImageCache();
    const started = Date.now();
    const before = opts.rebuild ? (await cache.list()).find((i) => i.name === name)?.path : undefined;
    const image = await cache.ensure(name, {
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
  .command('list')
  .description('list cached images')
  .action(async () => {
    for (const i of await new ImageCache().list()) console.log(`${i.name.padEnd(24)} ${(i.sizeBytes / 2 ** 20).toFixed(0).padStart(6)} MiB  ${i.path}`);
  });
images
  .command('remove <name>')
  .description('delete a cached image')
  .action(async (name: string) => new ImageCache().remove(name));

program
  .command('cleanup')
  .description('remove VMs and overlays left behind by killed runs')
  .action(async () => {
    const removed = await removeStaleVms(new Virsh(), { runDir: runDir() });
    console.log(removed.length ? `removed: ${removed.join(', ')}` : 'nothing left behind');
  });

program.parseAsync().catch((e: Error) => {
  console.error(`demotool: ${e.message}`);
  process.exitCode = 1;
});
