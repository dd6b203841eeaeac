/**
 * The exhibit config file's schema, and the environment variables that override it. The
 * `watchdog` section is the watchdog's own schema (without `api`, which is a section of its own
 * here), so it means exactly what `vm.watchdog(options)` means; its durations may be written
 * '15s', '12m', '500ms' and are converted to milliseconds before that schema sees them.
 */
import { hardwareChoiceSchema } from '../api/internal.js';
import { imageRecipeSchema } from '../images/index.js';
import { z } from '../option-schema.js';
import { watchdogOptionsSchema } from '../watchdog/index.js';

const vmSchema = z
  .strictObject({
    domain: z.string().min(1).optional(),
    // An image's name, or a recipe (README, "Your own image: recipes"; host files relative to the config file).
    image: z.union([z.string().min(1), imageRecipeSchema]).optional(),
    // A hardware profile's name, or { profile, disk, nic, video, clock } (README, "Hardware profiles"); only with image.
    hardware: hardwareChoiceSchema.optional(),
    name: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,47}$/, 'a VM name: letters, digits, . _ -, starting with a letter or digit, at most 48 characters')
      .optional(),
  })
  .superRefine((vm, ctx) => {
    if (vm.domain !== undefined && vm.image !== undefined)
      ctx.addIssue({ code: 'custom', path: ['image'], message: 'give either domain (an existing libvirt domain) or image (define one from it), not both' });
    else if (vm.domain === undefined && vm.image === undefined)
      ctx.addIssue({ code: 'custom', message: 'give domain (an existing libvirt domain) or image (define one from it)' });
    else if (vm.domain !== undefined && vm.name !== undefined)
      ctx.addIssue({ code: 'custom', path: ['name'], message: 'name is only for a VM defined from an image; with domain, the domain is the name' });
    else if (vm.domain !== undefined && vm.hardware !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['hardware'],
        message: 'hardware is only for a VM defined from an image; an existing domain keeps its own devices',
      });
  })
  .transform((vm) =>
    vm.domain !== undefined
      ? { domain: vm.domain }
      : { image: vm.image!, ...(vm.name !== undefined && { name: vm.name }), ...(vm.hardware !== undefined && { hardware: vm.hardware }) },
  );

const apiSchema = z
  .strictObject({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8080),
    token: z.string().optional(),
    tokenFile: z.string().min(1).optional(),
  })
  .refine((api) => api.token === undefined || api.tokenFile === undefined, { message: 'give token or tokenFile, not both', path: ['tokenFile'] });

export const exhibitConfigSchema = z.strictObject({
  vm: vmSchema,
  resources: z.strictObject({ cpus: z.number().int().min(1).optional(), memoryMiB: z.number().int().min(256).optional() }).default({}),
  watchdog: watchdogOptionsSchema.omit({ api: true }).prefault({}),
  transport: z.enum(['http', 'serial']).default('http'),
  api: apiSchema.prefault({}),
  kiosk: z.strictObject({ enabled: z.boolean().default(false), viewer: z.array(z.string().min(1)).min(1).optional() }).prefault({}),
  onStart: z.enum(['revert', 'keep-if-healthy']).default('keep-if-healthy'),
  onStop: z.enum(['leave-running', 'shutdown']).default('leave-running'),
  // The guest's network services (README, "Network services"); checked by parseServiceMap in config.ts, relative paths next to the config.
  services: z.unknown().optional(),
});

/** The fields (dotted paths) that take a duration: a number of milliseconds, or '15s', '12m', '500ms'. */
export const DURATION_FIELDS: readonly string[] = [
  'watchdog.heartbeatTimeout',
  'watchdog.idleTimeout',
  'watchdog.grace',
  'watchdog.checkInterval',
  'watchdog.guestRequestInterval',
  'watchdog.escalation.windowMs',
  'watchdog.timeouts.probeMs',
  'watchdog.timeouts.revertMs',
  'watchdog.timeouts.killMs',
];

export type EnvKind = 'string' | 'integer' | 'boolean' | 'duration';

export interface EnvOverride {
  variable: string;
  field: string;
  kind: EnvKind;
  /** Fields of the file this variable makes void (e.g. an api.token from the environment replaces the file's api.tokenFile). */
  replaces?: readonly string[];
}

/**
 * The environment variables that override the file: DEMOTOOL_EXHIBIT_ and the field's path in
 * upper snake case, the `watchdog.` prefix left out. They beat the file; an empty one counts as unset.
 */
export const ENV_OVERRIDES: readonly EnvOverride[] = [
  { variable: 'DEMOTOOL_EXHIBIT_VM_DOMAIN', field: 'vm.domain', kind: 'string', replaces: ['vm.image', 'vm.name'] },
  { variable: 'DEMOTOOL_EXHIBIT_VM_IMAGE', field: 'vm.image', kind: 'string', replaces: ['vm.domain'] },
  { variable: 'DEMOTOOL_EXHIBIT_SNAPSHOT', field: 'watchdog.snapshot', kind: 'string' },
  { variable: 'DEMOTOOL_EXHIBIT_HEARTBEAT_TIMEOUT', field: 'watchdog.heartbeatTimeout', kind: 'duration' },
  { variable: 'DEMOTOOL_EXHIBIT_IDLE_TIMEOUT', field: 'watchdog.idleTimeout', kind: 'duration' },
  { variable: 'DEMOTOOL_EXHIBIT_GRACE', field: 'watchdog.grace', kind: 'duration' },
  { variable: 'DEMOTOOL_EXHIBIT_AUTO_REVERT', field: 'watchdog.autoRevert', kind: 'boolean' },
  { variable: 'DEMOTOOL_EXHIBIT_TRANSPORT', field: 'transport', kind: 'string' },
  { variable: 'DEMOTOOL_EXHIBIT_API_HOST', field: 'api.host', kind: 'string' },
  { variable: 'DEMOTOOL_EXHIBIT_API_PORT', field: 'api.port', kind: 'integer' },
  { variable: 'DEMOTOOL_EXHIBIT_API_TOKEN', field: 'api.token', kind: 'string', replaces: ['api.tokenFile'] },
  { variable: 'DEMOTOOL_EXHIBIT_API_TOKEN_FILE', field: 'api.tokenFile', kind: 'string', replaces: ['api.token'] },
  { variable: 'DEMOTOOL_EXHIBIT_KIOSK_ENABLED', field: 'kiosk.enabled', kind: 'boolean' },
  { variable: 'DEMOTOOL_EXHIBIT_ON_START', field: 'onStart', kind: 'string' },
  { variable: 'DEMOTOOL_EXHIBIT_ON_STOP', field: 'onStop', kind: 'string' },
];

/** The keys the object schema at `path` accepts, looking through optional, default, prefault and pipes. */
export function knownKeys(path: readonly (string | number)[], schema: z.ZodType = exhibitConfigSchema): string[] {
  const object = objectIn(schema);
  if (!object) return [];
  if (path.length === 0) return Object.keys(object.shape);
  const [head, ...rest] = path;
  const child = (object.shape as Record<string, z.ZodType>)[String(head)];
  return child ? knownKeys(rest, child) : [];
}

function objectIn(schema: z.ZodType): z.ZodObject | undefined {
  if (schema instanceof z.ZodObject) return schema;
  const def = schema._zod.def as { innerType?: z.ZodType; in?: z.ZodType };
  if (def.innerType) return objectIn(def.innerType);
  if (def.in) return objectIn(def.in);
  return undefined;
}
