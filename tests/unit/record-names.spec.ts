import { test, expect } from '@playwright/test';
import { safeFileName } from '../../src/record/index.js';

test.describe('safeFileName', () => {
  const cases: [string, string][] = [
    ['section1', 'section1'],
    ['Section 1: Login!', 'section-1-login'],
    ['Café Crème', 'café-crème'],
    ['Cafe\u0301', 'café'], // one spelling of é, composed or not
    ['../../etc/passwd', 'etc-passwd'],
    ['..', 'section'],
    ['', 'section'],
    ['   ', 'section'],
    ['.hidden', 'hidden'],
    ['a/b\\c', 'a-b-c'],
    ['v1.2_final-cut', 'v1.2_final-cut'],
    ['a...b', 'a.b'],
    ['UPPER lower', 'upper-lower'],
    // Other scripts are kept, not folded to one name.
    ['日本語', '日本語'],
    ['中文 演示', '中文-演示'],
    ['Привет мир', 'привет-мир'],
    ['Ελληνικά', 'ελληνικά'],
    ['Русский йогурт', 'русский-йогурт'],
    ['Tiếng Việt', 'tiếng-việt'],
    ['Straße', 'straße'],
    ['مرحبا', 'مرحبا'],
    ['नमस्ते दुनिया', 'नमस्ते-दुनिया'],
    ['ﬁle', 'file'],
    ['ＡＢＣ', 'abc'],
    // Controls, bidi overrides, separators and symbols are not kept.
    ['\u202Eevil\u202C.sh', 'evil-.sh'],
    ['🎬 intro', 'intro'],
    ['a\u2215b\uff0fc', 'a-b-c'],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      expect(safeFileName(input)).toBe(expected);
    });
  }

  test('different scripts give different files (they all became section.mp4 before)', () => {
    const names = ['日本語', '中文', 'Русский', 'العربية', 'हिन्दी', '한국어', 'ไทย'];
    expect(new Set(names.map(safeFileName)).size).toBe(names.length);
    expect(names.map(safeFileName)).not.toContain('section');
  });

  test('always a plain, bounded name of safe characters', () => {
    const nasty = [
      'a'.repeat(500),
      '-.-.-',
      '\u0000\n\t',
      'x/../../y',
      'CON',
      '..\\..\\windows',
      '~root',
      '$(rm -rf /)',
      '日'.repeat(300),
      'é'.repeat(300),
      'नमस्ते'.repeat(80),
      '\u0301\u0301abc',
      'a\u0000/b',
    ];
    for (const s of nasty) {
      const name = safeFileName(s);
      expect(name).toMatch(/^[\p{L}\p{N}_][\p{L}\p{N}\p{M}._-]*$/u);
      expect(name).not.toContain('..');
      expect(name).not.toContain('/');
      expect([...name].length).toBeLessThanOrEqual(100);
      // With the extension and the hidden temp-file tags, still far below NAME_MAX (255 bytes).
      expect(Buffer.byteLength(name)).toBeLessThanOrEqual(150);
    }
  });
});
