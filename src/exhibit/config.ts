/**
 * Reading an exhibit config: YAML (with source positions) → environment overrides → durations in
 * milliseconds → the strict schema → the token file → the watchdog's own check of the API. Every
 * problem is collected and thrown together as one ExhibitConfigError, each with FILE:LINE:COL (or
 * the environment variable), the field and the reason.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { isMap, isPair, isScalar, LineCounter, parseDocument, type Document } from 'yaml';
import type { HardwareChoice } from '../api/index.js';
import type { ImageRecipe } from '../images/index.js';
import { closestName } from '../closest-name.js';
import { z } from '../option-schema.js';
import { parseServiceMap, type ServiceMap } from '../network/index.js';
import { watchdogOptionsSchema, type ResolvedWatchdogOptions } from '../watchdog/index.js';
import { ExhibitConfigError, type ConfigProblem } from './config-errors.js';
import { DURATION_FIELDS, ENV_OVERRIDES, exhibitConfigSchema, knownKeys, type EnvKind } from './config-schema.js';
import { parseDuration } from './duration.js';

type Parsed = z.output<typeof exhibitConfigSchema>;

/** A checked config, with its defaults; durations in milliseconds. */
export interface ExhibitConfig {
  file: string;
  vm: { domain: string } | { image: string | ImageRecipe; name?: string; hardware?: HardwareChoice };
  resources: { cpus?: number; memoryMiB?: number };
  /** Exactly what `vm.watchdog(options)` resolves to, the control API included. */
  watchdog: ResolvedWatchdogOptions;
  transport: 'http' | 'serial';
  kiosk: { enabled: boolean; viewer?: string[] };
  onStart: 'revert' | 'keep-if-healthy';
  onStop: 'leave-running' | 'shutdown';
  /** The guest's network services, their files' paths made absolute. */
  services?: ServiceMap;
}

type Env = Record<string, string | undefined>;

/** Reads and checks `file`; the environment (default process.env) overrides it. */
export async function loadExhibitConfig(file: string, env: Env = process.env): Promise<ExhibitConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ExhibitConfigError(file, [{ where: file, field: '', reason: `cannot read it: ${(e as Error).message}` }]);
  }
  return parseExhibitConfig(text, file, env);
}

/** Checks a config's text; `file` names it in errors and anchors a relative tokenFile. */
export async function parseExhibitConfig(text: string, file: string, env: Env = {}): Promise<ExhibitConfig> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return `${file}:${line}:${col}`;
  };
  if (doc.errors.length)
    throw new ExhibitConfigError(
      file,
      doc.errors.map((e) => ({ where: at(e.pos[0]), field: '', reason: `YAML syntax: ${e.message.split('\n')[0]}` })),
    );

  const problems: ConfigProblem[] = [];
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw) || raw === null)
    throw new ExhibitConfigError(file, [{ where: at(0), field: '', reason: 'the config must be a mapping of keys (vm:, watchdog:, api: ...)' }]);
  const value = raw as Record<string, unknown>;

  // The environment beats the file.
  const fromEnv = new Map<string, string>();
  for (const o of ENV_OVERRIDES) {
    const text = env[o.variable];
    if (text === undefined || text === '') continue;
    const parsed = envValue(text, o.kind);
    if (typeof parsed === 'object') {
      problems.push({ where: `environment variable ${o.variable}`, field: o.field, reason: parsed.error });
      continue;
    }
    for (const field of o.replaces ?? []) deleteIn(value, field.split('.'));
    setIn(value, o.field.split('.'), parsed);
    fromEnv.set(o.field, o.variable);
  }

  const where = (path: readonly PropertyKey[]) => {
    const field = path.map(String).join('.');
    for (const [f, variable] of fromEnv) if (field === f || field.startsWith(`${f}.`)) return `environment variable ${variable}`;
    return at(offsetOf(doc, path));
  };

  for (const field of DURATION_FIELDS) {
    const path = field.split('.');
    const v = getIn(value, path);
    if (typeof v !== 'string') continue;
    const ms = parseDuration(v);
    if (typeof ms === 'number') setIn(value, path, ms);
    else problems.push({ where: where(path), field, reason: ms.error });
  }

  const result = exhibitConfigSchema.safeParse(value);
  if (!result.success) {
    // A field already named (an unreadable duration) is not named again for its type.
    const named = new Set(problems.map((p) => p.field));
    for (const issue of result.error.issues) problems.push(...describeIssue(issue, value, where).filter((p) => !named.has(p.field)));
  }
  // The API section on its own too, so its token and address problems are listed with the others.
  const apiSection = exhibitConfigSchema.shape.api.safeParse(value.api);
  const api = apiSection.success ? await checkApi(apiSection.data, file, value, where, problems) : undefined;
  const services = checkServices(value, file, where, problems);
  if (problems.length || !result.success || !api) throw new ExhibitConfigError(file, problems);
  return { ...resolved(file, result.data, api), ...(services && { services }) };
}

/** The services section checked as the VM option is, its relative paths taken from the config's directory. */
function checkServices(
  value: Record<string, unknown>,
  file: string,
  where: (path: readonly PropertyKey[]) => string,
  problems: ConfigProblem[],
): ServiceMap | undefined {
  if (value.services === undefined) return undefined;
  const vm = value.vm as Record<string, unknown> | undefined;
  if (vm?.domain !== undefined) {
    problems.push({
      where: where(['services']),
      field: 'services',
      reason: 'services need a VM defined from an image (vm.image): demotool runs its closed network',
    });
    return undefined;
  }
  try {
    return parseServiceMap(withPathsFrom(path.dirname(file), value.services), 'services');
  } catch (e) {
    problems.push({ where: where(['services']), field: 'services', reason: (e as Error).message });
    return undefined;
  }
}

/** A copy of a service map with its file paths resolved against `dir`; anything not a map is left for parseServiceMap to refuse. */
function withPathsFrom(dir: string, map: unknown): unknown {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return map;
  const out: Record<string, unknown> = {};
  for (const [host, spec] of Object.entries(map)) {
    if (typeof spec !== 'object' || spec === null) {
      out[host] = spec;
      continue;
    }
    const copy: Record<string, unknown> = { ...(spec as Record<string, unknown>) };
    for (const key of ['archive', 'mirror', 'mock', 'record']) if (typeof copy[key] === 'string') copy[key] = path.resolve(dir, copy[key] as string);
    out[host] = copy;
  }
  return out;
}

/** A recipe's relative host files are next to the config file, as the services' files and tokenFile are. */
function withRecipeFilesFrom(dir: string, vm: Parsed['vm']): Parsed['vm'] {
  if (!('image' in vm) || typeof vm.image === 'string' || !vm.image.files) return vm;
  const files = Object.fromEntries(Object.entries(vm.image.files).map(([guest, src]) => [guest, typeof src === 'string' ? path.resolve(dir, src) : src]));
  return { ...vm, image: { ...vm.image, files } };
}

/** The control API as the watchdog will take it: the token read, then the watchdog's own rules (a token of 16 characters or more; beyond loopback only with one). */
async function checkApi(
  section: Parsed['api'],
  file: string,
  value: unknown,
  where: (path: readonly PropertyKey[]) => string,
  problems: ConfigProblem[],
): Promise<ResolvedWatchdogOptions['api'] | undefined> {
  const token = await readToken(section, file, (field) => where(field.split('.')), problems);
  const api = watchdogOptionsSchema.shape.api.safeParse({ host: section.host, port: section.port, ...(token !== undefined && { token }) });
  if (api.success) return api.data;
  for (const issue of api.error.issues) {
    const path = issue.path[0] === 'token' && section.tokenFile !== undefined ? ['api', 'tokenFile'] : ['api', ...issue.path];
    problems.push(...describeIssue({ ...issue, path }, value, where));
  }
  return undefined;
}

function resolved(file: string, c: Parsed, api: ResolvedWatchdogOptions['api']): ExhibitConfig {
  return {
    file,
    vm: withRecipeFilesFrom(path.dirname(file), c.vm),
    resources: c.resources,
    watchdog: { ...c.watchdog, api },
    transport: c.transport,
    kiosk: c.kiosk,
    onStart: c.onStart,
    onStop: c.onStop,
  };
}

/** The config to print: the token replaced by '<redacted>'. */
export function redactedConfig(config: ExhibitConfig): ExhibitConfig {
  const api = config.watchdog.api;
  if (!api || api.token === undefined) return config;
  return { ...config, watchdog: { ...config.watchdog, api: { ...api, token: '<redacted>' } } };
}

async function readToken(api: Parsed['api'], file: string, where: (field: string) => string, problems: ConfigProblem[]): Promise<string | undefined> {
  if (api.tokenFile === undefined) return api.token;
  // A relative tokenFile is next to the config file.
  try {
    return (await readFile(path.resolve(path.dirname(file), api.tokenFile), 'utf8')).trim();
  } catch (e) {
    problems.push({ where: where('api.tokenFile'), field: 'api.tokenFile', reason: `cannot read the token: ${(e as Error).message}` });
    return undefined;
  }
}

function envValue(text: string, kind: EnvKind): string | number | boolean | { error: string } {
  switch (kind) {
    case 'string':
      return text;
    case 'integer':
      return /^\d+$/.test(text.trim()) ? Number(text.trim()) : { error: `${JSON.stringify(text)} is not a whole number` };
    case 'boolean': {
      const t = text.trim().toLowerCase();
      if (['true', '1', 'yes', 'on'].includes(t)) return true;
      if (['false', '0', 'no', 'off'].includes(t)) return false;
      return { error: `${JSON.stringify(text)} is not a boolean: use true or false` };
    }
    case 'duration':
      return parseDuration(text, { bareMs: true });
  }
}

function describeIssue(issue: z.core.$ZodIssue, value: unknown, where: (path: readonly PropertyKey[]) => string): ConfigProblem[] {
  const path = issue.path;
  const field = path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(path.map((p) => (typeof p === 'symbol' ? String(p) : p)));
    return issue.keys.map((key) => {
      const guess = closestName(key, known);
      const reason = `unknown key ${JSON.stringify(key)}${guess ? ` (did you mean ${JSON.stringify(guess)}?)` : ''}; known keys: ${known.join(', ')}`;
      return { where: where([...path, key]), field: [...path.map(String), key].join('.'), reason };
    });
  }
  const missing = issue.code === 'invalid_type' && getIn(value, path.map(String)) === undefined;
  return [{ where: where(path), field, reason: missing ? `missing (required): ${issue.message}` : issue.message }];
}

/** The offset of the YAML node at `path` (a key's own position for the last step), or of its nearest ancestor present in the file. */
function offsetOf(doc: Document, path: readonly PropertyKey[]): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as { range?: [number] } | null)?.range?.[0] ?? 0;
  for (const step of path) {
    if (!isMap(node)) break;
    const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(step));
    if (!pair) break;
    offset = (pair.key as { range?: [number] }).range?.[0] ?? offset;
    node = pair.value;
  }
  return offset;
}

function getIn(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const step of path) v = v && typeof v === 'object' ? (v as Record<string, unknown>)[step] : undefined;
  return v;
}

function setIn(value: Record<string, unknown>, path: readonly string[], v: unknown): void {
  let o = value;
  for (const step of path.slice(0, -1)) {
    const next = o[step];
    if (!next || typeof next !== 'object' || Array.isArray(next)) o[step] = {};
    o = o[step] as Record<string, unknown>;
  }
  o[path[path.length - 1]!] = v;
}

function deleteIn(value: Record<string, unknown>, path: readonly string[]): void {
  const parent = getIn(value, path.slice(0, -1));
  if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[path[path.length - 1]!];
}
