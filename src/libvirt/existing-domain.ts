/**
 * An existing libvirt domain as an image source (`domain:NAME`). Its definition is only read
 * (`virsh dumpxml`, `domstate`); its first disk becomes the backing file of each VM's own
 * overlay, which QEMU opens read-only. Neither is ever changed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import type { KernelBoot } from './domain-xml.js';
import { VmError } from './errors.js';
import { CLOCKS, DISKS, NICS, VIDEOS, type HardwareChoice } from './hardware.js';
import type { Virsh } from './virsh.js';

/** What demotool takes from an existing domain. */
export interface ExistingDomain {
  name: string;
  /** Its first disk: a file, qcow2 or raw. */
  disk: { path: string; format: 'qcow2' | 'raw'; sizeBytes: number };
  memoryMiB: number;
  cpus: number;
  /** The devices of an old guest (IDE/SATA disk, e1000/rtl8139, local-time clock) or UEFI firmware; undefined for a modern guest. */
  hardware?: Exclude<HardwareChoice, string>;
  /** Its direct kernel boot, when it has one (else it boots from its disk). */
  boot?: KernelBoot;
}

type Node = Record<string, unknown>;
const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', isArray: (name) => ['disk', 'interface', 'video'].includes(name) });

const refuse = (code: string, message: string, hint: string) => new VmError(code, message, { hint });
const attr = (node: unknown, name: string): string | undefined => {
  const v = (node as Node | undefined)?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
};
const text = (node: unknown): string | undefined => {
  if (typeof node === 'string' || typeof node === 'number') return String(node);
  const t = (node as Node | undefined)?.['#text'];
  return t === undefined ? undefined : String(t);
};
const known = <T extends string>(list: readonly T[], value: string | undefined): T | undefined =>
  (list as readonly string[]).includes(value ?? '') ? (value as T) : undefined;

/**
 * The domain `name` on `virsh`'s connection, checked before anything is made from it: it exists,
 * is shut off, no running domain uses its disk, and its first disk is a qcow2 or raw file that exists.
 * @throws {@link VmError} EDOMAINUNKNOWN, EDOMAINRUNNING or EDOMAINDISK, with a hint.
 */
export async function inspectExistingDomain(virsh: Virsh, name: string): Promise<ExistingDomain> {
  const state = await virsh.run(['domstate', name], { quiet: true }).catch(async () => {
    throw await unknownDomain(virsh, name);
  });
  if (state.trim() !== 'shut off')
    throw refuse(
      'EDOMAINRUNNING',
      `domain ${name} is ${state.trim()}: its disk changes under a VM standing on it`,
      `shut it down first (virsh shutdown ${name}); demotool boots only a shut-off domain's disk`,
    );
  const xml = parser.parse(await virsh.run(['dumpxml', '--inactive', name], { quiet: true })) as { domain?: Node };
  const domain = xml.domain ?? {};
  const disk = await firstDisk(name, domain);
  await refuseDiskInUse(virsh, name, disk.path);
  return { name, disk, ...resources(domain), ...hardwareOf(domain), ...(await kernelBoot(name, domain)) };
}

async function unknownDomain(virsh: Virsh, name: string): Promise<VmError> {
  const all = (await virsh.listDomains().catch(() => [] as string[])).filter((d) => !d.startsWith('demo-'));
  const there = all.length ? `domains there: ${all.slice(0, 20).join(', ')}${all.length > 20 ? ', ...' : ''}` : 'there is none';
  return refuse(
    'EDOMAINUNKNOWN',
    `no libvirt domain named ${name} on ${virsh.uri} (${there})`,
    `\`virsh -c ${virsh.uri} list --all\` lists them; write domain:NAME`,
  );
}

async function firstDisk(name: string, domain: Node): Promise<ExistingDomain['disk']> {
  const disks = ((domain.devices as Node | undefined)?.disk as Node[] | undefined) ?? [];
  const disk = disks.find((d) => (attr(d, 'device') ?? 'disk') === 'disk');
  const hint = 'demotool boots a domain whose first disk is a qcow2 or raw file';
  if (!disk) throw refuse('EDOMAINDISK', `domain ${name} has no disk`, hint);
  const file = attr(disk.source, 'file');
  if (attr(disk, 'type') !== 'file' || !file) throw refuse('EDOMAINDISK', `domain ${name}'s first disk is not a file (type ${attr(disk, 'type')})`, hint);
  const format = attr(disk.driver, 'type') ?? 'raw';
  if (format !== 'qcow2' && format !== 'raw') throw refuse('EDOMAINDISK', `domain ${name}'s disk ${file} is ${format}`, hint);
  const st = await fs.stat(file).catch(() => undefined);
  if (!st?.isFile())
    throw refuse(
      'EDOMAINDISK',
      `domain ${name}'s disk ${file} is missing or not a file`,
      `put the disk back where the domain names it (virsh dumpxml ${name})`,
    );
  return { path: path.resolve(file), format, sizeBytes: st.size };
}

/** A running domain sharing the disk writes it under our overlay. */
async function refuseDiskInUse(virsh: Virsh, name: string, disk: string): Promise<void> {
  const running = (await virsh.run(['list', '--name'], { quiet: true }))
    .split('\n')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const other of running) {
    const blocks = await virsh.tryRun(['domblklist', other]);
    if (blocks?.split('\n').some((line) => line.trim().split(/\s+/).slice(1).join(' ') === disk))
      throw refuse('EDOMAINRUNNING', `domain ${name}'s disk ${disk} is in use by the running domain ${other}`, `shut ${other} down first`);
  }
}

function resources(domain: Node): { memoryMiB: number; cpus: number } {
  const unit = (attr(domain.memory, 'unit') ?? 'KiB').toLowerCase();
  const scale: Record<string, number> = { b: 2 ** -20, bytes: 2 ** -20, k: 2 ** -10, kib: 2 ** -10, m: 1, mib: 1, g: 1024, gib: 1024 };
  const memoryMiB = Math.round(Number(text(domain.memory)) * (scale[unit] ?? 2 ** -10));
  return { memoryMiB, cpus: Number(text(domain.vcpu) ?? 1) };
}

/** An old guest's devices, as far as demotool has them; a modern guest (virtio, UTC) keeps the image's profile. */
function hardwareOf(domain: Node): Pick<ExistingDomain, 'hardware'> {
  const devices = (domain.devices as Node | undefined) ?? {};
  const disk = known(DISKS, attr((devices.disk as Node[] | undefined)?.find((d) => (attr(d, 'device') ?? 'disk') === 'disk')?.target, 'bus'));
  const nic = known(NICS, attr((devices.interface as Node[] | undefined)?.[0]?.model, 'type'));
  const video = known(VIDEOS, attr((devices.video as Node[] | undefined)?.[0]?.model, 'type'));
  const clock = known(CLOCKS, attr(domain.clock, 'offset'));
  if (disk === 'ide' || disk === 'sata' || nic === 'e1000' || nic === 'rtl8139' || clock === 'localtime')
    return {
      hardware: { profile: 'legacy-windows', ...(disk && { disk }), ...(nic && { nic }), ...(video && video !== 'virtio' && { video }), clock: clock ?? 'utc' },
    };
  const os = (domain.os as Node | undefined) ?? {};
  if (attr(os, 'firmware') === 'efi' || /ovmf|edk2/i.test(text(os.loader) ?? '')) return { hardware: { profile: 'uefi' } };
  return {};
}

async function kernelBoot(name: string, domain: Node): Promise<Pick<ExistingDomain, 'boot'>> {
  const os = (domain.os as Node | undefined) ?? {};
  const kernel = text(os.kernel);
  if (!kernel) return {};
  const initrd = text(os.initrd);
  if (!initrd)
    throw refuse('EDOMAINDISK', `domain ${name} boots a kernel without an initrd`, 'demotool boots a domain from its disk, or by a kernel with an initrd');
  for (const file of [kernel, initrd])
    if (!(await fs.stat(file).catch(() => undefined))?.isFile())
      throw refuse('EDOMAINDISK', `domain ${name}'s boot file ${file} is missing`, `put it back where the domain names it (virsh dumpxml ${name})`);
  return { boot: { kernel, initrd, cmdline: text(os.cmdline) ?? '' } };
}
