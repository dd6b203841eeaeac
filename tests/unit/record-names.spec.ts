import { test, expect } from '@playwright/test';
import { safeFileName } from '../../src/record/index.js';

test.describe('safeFileName', () => {
  const cases: [string, string][] = [
    ['section1', 'section1'],
    ['Section 1: Login!', 'section-1-login'],
    ['Café Crème', 'cafe-creme'],
    ['../../etc/passwd', 'etc-passwd'],
    ['..', 'section'],
    ['', 'section'],
    ['   ', 'section'],
    ['.hidden', 'hidden'],
    ['a/b\\c', 'a-b-c'],
    ['v1.2_final-cut', 'v1.2_final-cut'],
    ['a...b', 'a.b'],
    ['日本語', 'section'],
    ['UPPER lower', 'upper-lower'],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      expect(safeFileName(input)).toBe(expected);
    });
  }

  test('always a plain, bounded name of safe characters', () => {
    const nasty = ['a'.repeat(500), '-.-.-', '\u0000\n\t', 'x/../../y', 'CON', '..\\..\\windows', '~root', '$(rm -rf /)'];
    for (const s of nasty) {
      const name = safeFileName(s);
      expect(name).toMatch(/^[a-z0-9_][a-z0-9._-]*$/);
      expect(name).not.toContain('..');
      expect(name.length).toBeLessThanOrEqual(100);
    }
  });
});
