/**
 * Structured logging. One line per event: human-readable by default,
 * JSON lines with DEMOTOOL_LOG_FORMAT=json. DEMOTOOL_LOG_LEVEL=debug|info|warn|error|silent.
 * The default is warn: inside a test runner the terminal belongs to its reporter, so only
 * warnings and errors go there (the fixtures put the detail in steps and attachments).
 * Warnings and errors carry the file:line of the caller, so a line leads to its code.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

const order: Record<LogLevel | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 99 };

const DEFAULT_LEVEL: LogLevel = 'warn';

function threshold(): number {
  const level = (process.env.DEMOTOOL_LOG_LEVEL || DEFAULT_LEVEL) as LogLevel | 'silent';
  return order[level] ?? order[DEFAULT_LEVEL];
}

/** file:line of the first stack frame outside this module. */
function callSite(): string | undefined {
  const stack = new Error().stack?.split('\n').slice(1) ?? [];
  for (const frame of stack) {
    if (frame.includes('/log.') || frame.includes('node:internal')) continue;
    const m = frame.match(/\(?((?:file:\/\/)?[^\s()]+):(\d+):\d+\)?$/);
    if (m?.[1] && m[2]) return `${m[1].replace(/^file:\/\//, '').replace(process.cwd() + '/', '')}:${m[2]}`;
  }
  return undefined;
}

function format(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /[\s"=]/.test(v) ? JSON.stringify(v) : v;
  return JSON.stringify(v);
}

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
  child(scope: string): Logger;
}

export function createLogger(scope: string): Logger {
  const emit = (level: LogLevel, event: string, fields: LogFields = {}) => {
    if (order[level] < threshold()) return;
    const record: LogFields = { ...fields };
    if (level === 'error' || level === 'warn') record.at ??= callSite();
    if (process.env.DEMOTOOL_LOG_FORMAT === 'json') {
      // Errors have no enumerable fields: JSON.stringify would turn them into {}.
      const plain = Object.fromEntries(Object.entries(record).map(([k, v]) => [k, v instanceof Error ? { name: v.name, message: v.message } : v]));
      process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, scope, event, ...plain }) + '\n');
      return;
    }
    const kv = Object.entries(record)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${format(v)}`)
      .join(' ');
    process.stderr.write(`demotool ${level} [${scope}] ${event}${kv ? ' ' + kv : ''}\n`);
  };
  return {
    debug: (e, f) => emit('debug', e, f),
    info: (e, f) => emit('info', e, f),
    warn: (e, f) => emit('warn', e, f),
    error: (e, f) => emit('error', e, f),
    child: (sub) => createLogger(`${scope}:${sub}`),
  };
}
