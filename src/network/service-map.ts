/**
 * The service map: which hostnames the guest may reach, and what answers for each. Checked by zod
 * and against the file system before anything starts, so a typo is a UsageError naming the key.
 */
import { statSync } from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.js';
import { parseOptions, z } from '../option-schema.js';

/** One canned answer of a mock service. */
export interface MockRoute {
  /** GET, POST...; any method when absent. */
  method?: string;
  /** The URL path (with its query, if the route has one), exact or with `*` for any characters. */
  path: string;
  status?: number;
  headers?: Record<string, string>;
  /** A string is sent as is; an object is sent as JSON. */
  body?: string | object;
  /** Wait this long before answering (a slow historical service). */
  delayMs?: number;
}

/** What answers for a hostname. */
export type ServiceSpec = { archive: string } | { mirror: string } | { mock: MockRoute[] | string } | { record: string; upstream?: string };

/** Hostnames (exact, or wildcards like `*.example.org`) → services. */
export type ServiceMap = Record<string, ServiceSpec>;

const route = z.strictObject({
  method: z
    .string()
    .regex(/^[A-Za-z]+$/, 'an HTTP method like GET')
    .optional(),
  path: z.string().startsWith('/', 'a URL path starting with /'),
  status: z.number().int().min(100).max(599).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  body: z.union([z.string(), z.record(z.string(), z.unknown()), z.array(z.unknown())]).optional(),
  delayMs: z.number().min(0).max(600_000).optional(),
});

const spec = z.union([
  z.strictObject({ archive: z.string().min(1) }),
  z.strictObject({ mirror: z.string().min(1) }),
  z.strictObject({ mock: z.union([z.array(route), z.string().min(1)]) }),
  z.strictObject({ record: z.string().min(1), upstream: z.url({ protocol: /^https?$/ }).optional() }),
]);

const HOSTNAME = /^(\*\.)?([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * `input` checked as a service map: hostnames, one service each, and the files they name.
 * `where` names the map in messages (e.g. `exhibit config services`). Throws a UsageError.
 */
export function parseServiceMap(input: unknown, where = 'network services'): ServiceMap {
  const map = parseOptions(z.record(z.string(), spec), input, where, 'each hostname takes one of archive, mirror, mock or record') as ServiceMap;
  for (const [host, service] of Object.entries(map)) {
    if (!HOSTNAME.test(host))
      throw new UsageError(`${where}: ${JSON.stringify(host)} is not a hostname`, 'use lower-case names like old-artwork.example or *.example.org');
    checkFiles(host, service, where);
  }
  return map;
}

function checkFiles(host: string, service: ServiceSpec, where: string): void {
  const at = `${where} ${host}`;
  if ('archive' in service) {
    if (!/\.(warc|warc\.gz|wacz)$/i.test(service.archive)) throw new UsageError(`${at}: archive ${service.archive} is not a .warc, .warc.gz or .wacz file`);
    mustBe(service.archive, 'file', at);
  } else if ('mirror' in service) {
    mustBe(service.mirror, 'directory', at);
  } else if ('mock' in service && typeof service.mock === 'string') {
    if (!/\.(m?js|m?ts)$/.test(service.mock)) throw new UsageError(`${at}: mock module ${service.mock} is not a .js or .ts file`);
    mustBe(service.mock, 'file', at);
  } else if ('record' in service) {
    if (!/\.warc(\.gz)?$/i.test(service.record)) throw new UsageError(`${at}: record ${service.record} must name a .warc or .warc.gz file to write`);
    mustBe(path.dirname(path.resolve(service.record)), 'directory', at);
  }
}

function mustBe(file: string, kind: 'file' | 'directory', at: string): void {
  let stat;
  try {
    stat = statSync(file);
  } catch {
    throw new UsageError(`${at}: ${file} does not exist`, `give the path of an existing ${kind} (relative paths are from ${process.cwd()})`);
  }
  if (kind === 'file' ? !stat.isFile() : !stat.isDirectory()) throw new UsageError(`${at}: ${file} is not a ${kind}`);
}

/** The service key that answers for `hostname`: the exact name first, then the longest matching wildcard. */
export function serviceKeyFor(map: ServiceMap, hostname: string): string | undefined {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (Object.hasOwn(map, name)) return name;
  const wildcards = Object.keys(map)
    .filter((k) => k.startsWith('*.') && name.endsWith(k.slice(1)))
    .sort((a, b) => b.length - a.length);
  return wildcards[0];
}

/** Which of the four kinds a spec is. */
export function serviceKind(service: ServiceSpec): 'archive' | 'mirror' | 'mock' | 'record' {
  if ('archive' in service) return 'archive';
  if ('mirror' in service) return 'mirror';
  if ('mock' in service) return 'mock';
  return 'record';
}
