import { randomUUID } from 'node:crypto';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { isZombie, pidNamespace, processStartTime } from '../process-identity.js';

/**
 * Who owns a VM: recorded in the domain's <metadata> (and, for the files a VM leaves in the run
 * directory, in `<vm>.owner.json`), so that the stale sweep removes only what a dead process left.
 */
export interface OwnerRecord {
  pid: number;
  /** The owner's start time, /proc/PID/stat field 22 (clock ticks after boot): pid + start names one process for good. */
  pidStart?: string;
  /** The owner's PID namespace (`readlink /proc/self/ns/pid`, e.g. 'pid:[4026531836]'): its pid means nothing elsewhere. */
  pidNamespace?: string;
  hostname: string;
  /** One random id per demotool process. */
  runId?: string;
  startedAt: string;
  overlay: string;
  image: string;
}

/** What an owner record read back holds: records of older versions lack the identity fields. */
export type ParsedOwner = Partial<OwnerRecord> & { pid: number; hostname: string };

/** `<vm>.owner.json` in the run directory: the record, the VM's name and the libvirt URI it lives on. */
export interface OwnerFile extends ParsedOwner {
  vm: string;
  uri: string;
}

export const METADATA_NS = 'https://demotool.dev/xmlns/vm/1';

/**
 * An exhibit's VM is owned by its config, not by a process: it outlives every daemon that
 * runs it, so the stale sweep never removes it and closing a daemon never undefines it.
 */
export interface ExhibitMark {
  /** The exhibit config file (absolute path) that runs this VM. */
  exhibit: string;
  image: string;
}

/** Who a domain belongs to: a demotool process (removed when it is gone), or an exhibit config (kept). */
export type Ownership = OwnerRecord | ExhibitMark;

/** This process's id for owner records. */
const RUN_ID = randomUUID();

/** This process, as an owner record names it: enough for ownerState() to tell when it is gone. */
export function thisProcess(): ParsedOwner {
  return { pid: process.pid, pidStart: processStartTime(process.pid), pidNamespace: pidNamespace(), hostname: hostname() };
}

/** The owner record for a VM this process boots now. */
export function currentOwner(vm: { overlay: string; image: string }): OwnerRecord {
  return {
    pid: process.pid,
    pidStart: processStartTime(process.pid),
    pidNamespace: pidNamespace(),
    hostname: hostname(),
    runId: RUN_ID,
    startedAt: new Date().toISOString(),
    overlay: vm.overlay,
    image: vm.image,
  };
}

export type OwnerState = { state: 'dead'; reason: string } | { state: 'alive' | 'elsewhere'; reason: string };

/** A process that has ended but not been reaped (where nothing reaps orphans, it stays so) is gone too. */
function pidExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * Is the owner provably gone? 'dead' only when its process is gone from this host and PID
 * namespace, or when its pid now names another process (a different start time). 'elsewhere'
 * (another host or PID namespace): nothing can be proven from here, so never swept.
 */
export function ownerState(
  owner: ParsedOwner,
  here: { hostname: string; pidNamespace?: string } = { hostname: hostname(), pidNamespace: pidNamespace() },
): OwnerState {
  if (owner.hostname !== here.hostname) return { state: 'elsewhere', reason: `owned on host ${owner.hostname}` };
  if (owner.pidNamespace !== undefined && owner.pidNamespace !== here.pidNamespace)
    return { state: 'elsewhere', reason: `owned from PID namespace ${owner.pidNamespace} (this is ${here.pidNamespace ?? 'unknown'})` };
  if (!Number.isSafeInteger(owner.pid) || owner.pid <= 0) return { state: 'elsewhere', reason: `bad owner pid ${owner.pid}` };
  if (!pidExists(owner.pid)) return { state: 'dead', reason: `pid ${owner.pid} is gone` };
  if (owner.pidStart !== undefined) {
    const start = processStartTime(owner.pid);
    if (start !== undefined && start !== owner.pidStart)
      return { state: 'dead', reason: `pid ${owner.pid} is another process now (started at ${start}, owner at ${owner.pidStart})` };
    if (start === undefined && !pidExists(owner.pid)) return { state: 'dead', reason: `pid ${owner.pid} is gone` };
  }
  return { state: 'alive', reason: `pid ${owner.pid} is running` };
}

const escAttr = (s: string) =>
  s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/'/g, '&apos;')
    .replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;')
    .replace(/\n/g, '&#10;')
    .replace(/\r/g, '&#13;');

/** The domain's <metadata> element with the owner record (or the exhibit mark). */
export function ownerMetadataXml(o: Ownership, indent = '  '): string {
  if ('exhibit' in o)
    return [
      `${indent}<metadata>`,
      `${indent}  <demotool:vm xmlns:demotool='${METADATA_NS}'>`,
      `${indent}    <demotool:exhibit config='${escAttr(o.exhibit)}'/>`,
      `${indent}    <demotool:image name='${escAttr(o.image)}'/>`,
      `${indent}  </demotool:vm>`,
      `${indent}</metadata>`,
    ].join('\n');
  const attrs: [string, string | number | undefined][] = [
    ['pid', o.pid],
    ['pidStart', o.pidStart],
    ['pidNamespace', o.pidNamespace],
    ['hostname', o.hostname],
    ['runId', o.runId],
    ['startedAt', o.startedAt],
  ];
  const owner = attrs
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}='${escAttr(String(v))}'`)
    .join(' ');
  return [
    `${indent}<metadata>`,
    `${indent}  <demotool:vm xmlns:demotool='${METADATA_NS}'>`,
    `${indent}    <demotool:owner ${owner}/>`,
    `${indent}    <demotool:overlay path='${escAttr(o.overlay)}'/>`,
    `${indent}    <demotool:image name='${escAttr(o.image)}'/>`,
    `${indent}  </demotool:vm>`,
    `${indent}</metadata>`,
  ].join('\n');
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@',
  parseAttributeValue: false,
  parseTagValue: false,
  trimValues: true,
  // Numeric character references (&#10;) too, not only the five named entities.
  htmlEntities: true,
  isArray: (_name: string, _path: unknown, _leaf: boolean, isAttribute: boolean) => !isAttribute,
});

type Node = Record<string, unknown>;
const nodes = (v: unknown): Node[] => (Array.isArray(v) ? v.filter((n): n is Node => !!n && typeof n === 'object') : []);
const text = (v: unknown): string | undefined => {
  if (typeof v === 'string') return v;
  const [n] = Array.isArray(v) ? v : [v];
  if (typeof n === 'string') return n;
  return n && typeof n === 'object' && typeof (n as Node)['#text'] === 'string' ? ((n as Node)['#text'] as string) : undefined;
};
const attr = (n: Node | undefined, name: string): string | undefined => {
  const v = n?.[`@${name}`];
  return typeof v === 'string' ? v : undefined;
};

/** The domain's name, UUID and owner record (or exhibit config), from libvirt's XML (any quoting, any entity form). */
export function readDomainXml(xml: string): { name?: string; uuid?: string; owner?: ParsedOwner; exhibit?: string } {
  let doc: Node;
  try {
    doc = parser.parse(xml) as Node;
  } catch {
    return {};
  }
  const domain = nodes(doc.domain)[0];
  if (!domain) return {};
  const mark = demotoolMetadata(domain);
  const exhibit = mark && attr(mark.child('exhibit'), 'config');
  return { name: text(domain.name)?.trim(), uuid: text(domain.uuid)?.trim(), owner: mark && ownerIn(mark.child), ...(exhibit !== undefined && { exhibit }) };
}

/** demotool's element in the domain's <metadata>, with a lookup for its children. */
function demotoolMetadata(domain: Node): { child: (name: string) => Node | undefined } | undefined {
  for (const metadata of nodes(domain.metadata)) {
    for (const [tag, value] of Object.entries(metadata)) {
      if (tag.startsWith('@') || tag.startsWith('#')) continue;
      const colon = tag.indexOf(':');
      const prefix = colon >= 0 ? tag.slice(0, colon) : '';
      if (tag.slice(colon + 1) !== 'vm') continue;
      const nsAttr = prefix ? `xmlns:${prefix}` : 'xmlns';
      for (const vm of nodes(value)) {
        // The namespace is declared on the element itself (libvirt keeps it there) or on an ancestor.
        const ns = attr(vm, nsAttr) ?? attr(metadata, nsAttr) ?? attr(domain, nsAttr);
        if (ns === METADATA_NS) return { child: (name: string) => nodes(vm[prefix ? `${prefix}:${name}` : name])[0] };
      }
    }
  }
  return undefined;
}

function ownerIn(child: (name: string) => Node | undefined): ParsedOwner | undefined {
  const owner = child('owner');
  const pid = attr(owner, 'pid');
  const host = attr(owner, 'hostname');
  if (!pid || !/^\d+$/.test(pid) || host === undefined) return undefined;
  const record: ParsedOwner = { pid: Number(pid), hostname: host };
  const optional = {
    pidStart: attr(owner, 'pidStart'),
    pidNamespace: attr(owner, 'pidNamespace'),
    runId: attr(owner, 'runId'),
    startedAt: attr(owner, 'startedAt'),
    overlay: attr(child('overlay'), 'path'),
    image: attr(child('image'), 'name'),
  };
  for (const [k, v] of Object.entries(optional)) if (v !== undefined) (record as Record<string, unknown>)[k] = v;
  return record;
}

/** Reads the owner record back out of a domain's XML. */
export function readOwner(xml: string): ParsedOwner | undefined {
  return readDomainXml(xml).owner;
}

/** Where a VM's leftover files name their owner. */
export function ownerFilePath(runDir: string, vm: string): string {
  return join(runDir, `${vm}.owner.json`);
}

/** Written at boot, before the overlay: a file in the run directory is never without its owner. */
export async function writeOwnerFile(path: string, owner: OwnerRecord, vm: { vm: string; uri: string }): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, JSON.stringify({ ...owner, ...vm } satisfies OwnerFile, null, 2) + '\n');
  await rename(tmp, path);
}

/** An owner file's record, or undefined when it is not one. */
export function parseOwnerFile(textContent: string): OwnerFile | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(textContent) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object') return undefined;
  if (!Number.isSafeInteger(v.pid) || typeof v.hostname !== 'string' || typeof v.vm !== 'string' || typeof v.uri !== 'string') return undefined;
  for (const k of ['pidStart', 'pidNamespace', 'runId', 'startedAt', 'overlay', 'image']) if (v[k] !== undefined && typeof v[k] !== 'string') return undefined;
  return v as unknown as OwnerFile;
}
