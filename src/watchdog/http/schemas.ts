/** JSON schemas of the API: request validation, response serialization and the OpenAPI document. */
const SNAPSHOT_NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

export const message = {
  type: 'object',
  properties: { message: { type: 'string' }, details: { type: 'object', additionalProperties: true, nullable: true } },
  required: ['message'],
} as const;

export const errorReply = {
  type: 'object',
  properties: { detail: { type: 'string' }, code: { type: 'string' }, hint: { type: 'string' } },
  required: ['detail'],
} as const;

export const heartbeatStatus = {
  type: 'object',
  properties: {
    enabled: { type: 'boolean' },
    timeout: { type: 'number' },
    last_heartbeat: { type: 'number', nullable: true },
    time_since_heartbeat: { type: 'number' },
    is_timed_out: { type: 'boolean' },
    has_received_heartbeat: { type: 'boolean' },
  },
  required: ['enabled', 'timeout', 'last_heartbeat', 'time_since_heartbeat', 'is_timed_out', 'has_received_heartbeat'],
} as const;

export const status = {
  type: 'object',
  properties: {
    vm_name: { type: 'string' },
    vm_state: { type: 'string' },
    vm_is_running: { type: 'boolean' },
    snapshot_name: { type: 'string' },
    snapshot_exists: { type: 'boolean' },
    heartbeat: heartbeatStatus,
    auto_revert_enabled: { type: 'boolean' },
    state: { type: 'string' },
    vm_state_reason: { type: 'string' },
    idle: { type: 'object', additionalProperties: true },
    reverts: { type: 'integer' },
    last_revert: { type: 'object', additionalProperties: true, nullable: true },
    guest: { type: 'object', additionalProperties: true },
  },
  required: ['vm_name', 'vm_state', 'vm_is_running', 'snapshot_name', 'snapshot_exists', 'heartbeat', 'auto_revert_enabled'],
} as const;

export const snapshotList = {
  type: 'object',
  properties: { vm_name: { type: 'string' }, snapshots: { type: 'array', items: { type: 'string' } } },
  required: ['vm_name', 'snapshots'],
} as const;

/** POST body or GET query of a revert request (the exhibition controller's clients use both). */
export const revertRequest = {
  type: 'object',
  properties: {
    reason: { type: 'string', maxLength: 500 },
    severity: { type: 'string', enum: ['error', 'warning', 'info'] },
  },
  additionalProperties: false,
} as const;

export const accepted = {
  type: 'object',
  properties: { status: { type: 'string' }, message: { type: 'string' }, will_revert_in_seconds: { type: 'number' } },
  required: ['status', 'message'],
} as const;

export const idleReset = {
  type: 'object',
  properties: { idle_duration: { type: 'number', minimum: 0, maximum: 31_536_000 } },
  additionalProperties: false,
} as const;

export const snapshotQuery = {
  type: 'object',
  properties: { snapshot_name: { type: 'string', pattern: SNAPSHOT_NAME_PATTERN } },
  additionalProperties: false,
} as const;

export const snapshotParams = {
  type: 'object',
  properties: { snapshot_name: { type: 'string', pattern: SNAPSHOT_NAME_PATTERN } },
  required: ['snapshot_name'],
} as const;

/** One recovery of `GET /api/v1/reverts` (never its screens). */
const revert = {
  type: 'object',
  properties: {
    reason: { type: 'string' },
    detail: { type: 'string' },
    method: { type: 'string', enum: ['in-place', 'snapshot-revert', 'restart'] },
    snapshot: { type: 'string' },
    started_at: { type: 'string', format: 'date-time' },
    duration_ms: { type: 'number' },
    ok: { type: 'boolean' },
    error: { type: 'string' },
    recovered_at: { type: 'string', format: 'date-time' },
  },
  required: ['reason', 'method', 'snapshot', 'started_at', 'duration_ms', 'ok'],
  additionalProperties: false,
} as const;

export const revertList = {
  type: 'object',
  properties: {
    vm_name: { type: 'string' },
    /** How many the watchdog keeps; the list holds the last 100 of them. */
    total: { type: 'integer' },
    reverts: { type: 'array', items: revert },
  },
  required: ['vm_name', 'total', 'reverts'],
} as const;
