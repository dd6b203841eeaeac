import { test, expect } from '@playwright/test';
import { checkVmOptions } from '../../src/api/vm-options.js';
import { UsageError } from '../../src/errors.js';

// `start` and its run-wide default DEMOTOOL_START: the option wins, a bad value is refused before anything boots.
test.describe('start and DEMOTOOL_START', () => {
  const saved = process.env.DEMOTOOL_START;
  test.afterEach(() => {
    if (saved === undefined) delete process.env.DEMOTOOL_START;
    else process.env.DEMOTOOL_START = saved;
  });

  test('warm without either; the environment sets the default; the option wins over it', () => {
    delete process.env.DEMOTOOL_START;
    expect(checkVmOptions({}).start).toBe('warm');
    process.env.DEMOTOOL_START = 'cold';
    expect(checkVmOptions({}).start).toBe('cold');
    expect(checkVmOptions({ start: 'warm' }).start).toBe('warm');
    process.env.DEMOTOOL_START = '';
    expect(checkVmOptions({}).start).toBe('warm');
  });

  test('a bad value in either is a UsageError naming it', () => {
    process.env.DEMOTOOL_START = 'Cold';
    expect(() => checkVmOptions({})).toThrow(UsageError);
    expect(() => checkVmOptions({})).toThrow(/DEMOTOOL_START must be 'warm' or 'cold', not "Cold"/);
    delete process.env.DEMOTOOL_START;
    expect(() => checkVmOptions({ start: 'hot' as 'warm' })).toThrow(expect.objectContaining({ code: 'EUSAGE', message: expect.stringMatching(/start/) }));
  });
});
