import { test, expect } from '@playwright/test';
import { createLogger } from '../../src/log.js';

/** What the logger writes to stderr while `body` runs, with DEMOTOOL_LOG_LEVEL as given. */
function stderrOf(level: string | undefined, body: () => void): string {
  const saved = process.env.DEMOTOOL_LOG_LEVEL;
  const write = process.stderr.write;
  let out = '';
  if (level === undefined) delete process.env.DEMOTOOL_LOG_LEVEL;
  else process.env.DEMOTOOL_LOG_LEVEL = level;
  process.stderr.write = ((chunk: string | Uint8Array) => ((out += String(chunk)), true)) as typeof process.stderr.write;
  try {
    body();
  } finally {
    process.stderr.write = write;
    if (saved === undefined) delete process.env.DEMOTOOL_LOG_LEVEL;
    else process.env.DEMOTOOL_LOG_LEVEL = saved;
  }
  return out;
}

const everyLevel = () => {
  const log = createLogger('unit');
  log.debug('a debug line');
  log.info('an info line');
  log.warn('a warning');
  log.error('an error');
};

test('by default only warnings and errors reach the terminal', () => {
  const out = stderrOf(undefined, everyLevel);
  expect(out).not.toContain('debug line');
  expect(out).not.toContain('info line');
  expect(out).toMatch(/^demotool warn \[unit\] a warning at=\S+:\d+$/m);
  expect(out).toMatch(/^demotool error \[unit\] an error at=\S+:\d+$/m);
  // An empty value is the default too; an unknown one falls back to it.
  expect(stderrOf('', everyLevel)).toBe(out);
  expect(stderrOf('loud', everyLevel)).not.toContain('info line');
});

test('DEMOTOOL_LOG_LEVEL asks for more, or for nothing', () => {
  expect(stderrOf('info', everyLevel)).toContain('demotool info [unit] an info line');
  expect(stderrOf('info', everyLevel)).not.toContain('debug line');
  expect(stderrOf('debug', everyLevel)).toContain('demotool debug [unit] a debug line');
  expect(stderrOf('error', everyLevel)).not.toContain('a warning');
  expect(stderrOf('silent', everyLevel)).toBe('');
});
