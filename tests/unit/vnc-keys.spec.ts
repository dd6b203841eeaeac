import { expect, test } from '@playwright/test';
import { KeyNameError, keysymFor, parseKeyCombo } from '../../src/vnc/index.js';
import { comboStrokes, splitCombo, strokeForChar } from '../../src/vnc/keys.js';

const SHIFTED = '~!@#$%^&*()_+{}|:"<>?ABCDEFGHIJKLMNOPQRSTUVWXYZ';

test.describe('typing characters', () => {
  test('all 95 printable ASCII characters map to their Latin-1 keysym', () => {
    for (let code = 0x20; code <= 0x7e; code++) {
      const ch = String.fromCharCode(code);
      const s = strokeForChar(ch);
      expect(s.keysym, ch).toBe(code);
      expect(s.shift, `shift for ${ch}`).toBe(SHIFTED.includes(ch));
    }
  });

  test('exactly the US-shifted characters need Shift', () => {
    let shifted = '';
    for (let code = 0x20; code <= 0x7e; code++) if (strokeForChar(String.fromCharCode(code)).shift) shifted += String.fromCharCode(code);
    expect([...shifted].sort().join('')).toBe([...SHIFTED].sort().join(''));
    expect(shifted).toHaveLength(47);
  });

  test('newline and tab are Return and Tab', () => {
    expect(strokeForChar('\n')).toEqual({ label: 'Enter', keysym: 0xff0d, shift: false });
    expect(strokeForChar('\t')).toEqual({ label: 'Tab', keysym: 0xff09, shift: false });
  });

  test('non-ASCII characters are refused before anything is sent', () => {
    expect(() => strokeForChar('é')).toThrow(KeyNameError);
    expect(() => strokeForChar('é')).toThrow(/U\+00E9/);
    expect(() => strokeForChar('\u0007')).toThrow(KeyNameError);
  });
});

test.describe('key names', () => {
  test('Playwright names', () => {
    expect(keysymFor('Enter')).toBe(0xff0d);
    expect(keysymFor('Tab')).toBe(0xff09);
    expect(keysymFor('Escape')).toBe(0xff1b);
    expect(keysymFor('Backspace')).toBe(0xff08);
    expect(keysymFor('Delete')).toBe(0xffff);
    expect(keysymFor('Insert')).toBe(0xff63);
    expect(keysymFor('ArrowUp')).toBe(0xff52);
    expect(keysymFor('ArrowDown')).toBe(0xff54);
    expect(keysymFor('ArrowLeft')).toBe(0xff51);
    expect(keysymFor('ArrowRight')).toBe(0xff53);
    expect(keysymFor('Home')).toBe(0xff50);
    expect(keysymFor('End')).toBe(0xff57);
    expect(keysymFor('PageUp')).toBe(0xff55);
    expect(keysymFor('PageDown')).toBe(0xff56);
    expect(keysymFor('F1')).toBe(0xffbe);
    expect(keysymFor('F12')).toBe(0xffc9);
    expect(keysymFor('Space')).toBe(0x20);
    expect(keysymFor('Shift')).toBe(0xffe1);
    expect(keysymFor('Control')).toBe(0xffe3);
    expect(keysymFor('Alt')).toBe(0xffe9);
    expect(keysymFor('Meta')).toBe(0xffeb);
  });

  test('aliases: Ctrl, ControlOrMeta, Super; case-insensitive names', () => {
    expect(keysymFor('Ctrl')).toBe(keysymFor('Control'));
    expect(keysymFor('ControlOrMeta')).toBe(keysymFor('Control'));
    expect(keysymFor('Super')).toBe(keysymFor('Meta'));
    expect(keysymFor('enter')).toBe(0xff0d);
    expect(keysymFor('ESC')).toBe(0xff1b);
  });

  test('KeyA / Digit codes are the unshifted keys', () => {
    expect(keysymFor('KeyA')).toBe(0x61);
    expect(keysymFor('KeyZ')).toBe(0x7a);
    expect(keysymFor('Digit0')).toBe(0x30);
    expect(keysymFor('Digit9')).toBe(0x39);
  });

  test('single characters are case-sensitive', () => {
    expect(keysymFor('a')).toBe(0x61);
    expect(keysymFor('A')).toBe(0x41);
  });

  test('an unknown key throws KeyNameError listing valid names', () => {
    let error: unknown;
    try {
      keysymFor('Entr');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(KeyNameError);
    const e = error as KeyNameError;
    expect(e.code).toBe('EKEYNAME');
    expect(e.message).toContain('"Entr"');
    expect(e.hint).toContain('Enter');
    expect(e.hint).toContain('ArrowUp');
    expect(e.hint).toContain('F1');
  });
});

test.describe('combinations', () => {
  test('splitting on +, with + itself as a key', () => {
    expect(splitCombo('Control+Alt+T')).toEqual(['Control', 'Alt', 'T']);
    expect(splitCombo('+')).toEqual(['+']);
    expect(splitCombo('Control++')).toEqual(['Control', '+']);
    expect(() => splitCombo('Control+')).toThrow(KeyNameError);
    expect(() => splitCombo('')).toThrow(KeyNameError);
    expect(() => splitCombo('a++b')).toThrow(KeyNameError);
  });

  test('modifiers first in order, the key last', () => {
    const s = parseKeyCombo('Control+Alt+T');
    expect(s.map((x) => x.keysym)).toEqual([0xffe3, 0xffe9, 0x74]);
    expect(s.map((x) => x.label)).toEqual(['Control', 'Alt', 'T']);
    expect(s.every((x) => !x.shift)).toBe(true);
  });

  test('Control+C is Ctrl with the plain c key, not Ctrl+Shift+c', () => {
    const s = parseKeyCombo('Control+C');
    expect(s).toEqual([
      { label: 'Control', keysym: 0xffe3, shift: false },
      { label: 'C', keysym: 0x63, shift: false },
    ]);
  });

  test('a lone capital or symbol gets Shift; with explicit Shift it does not get it twice', () => {
    expect(parseKeyCombo('A')).toEqual([{ label: 'A', keysym: 0x41, shift: true }]);
    expect(parseKeyCombo('?')).toEqual([{ label: '?', keysym: 0x3f, shift: true }]);
    const st = parseKeyCombo('Shift+Tab');
    expect(st.map((x) => [x.keysym, x.shift])).toEqual([
      [0xffe1, false],
      [0xff09, false],
    ]);
    const sa = parseKeyCombo('Shift+a');
    expect(sa.map((x) => [x.keysym, x.shift])).toEqual([
      [0xffe1, false],
      [0x61, false],
    ]);
  });

  test('a symbol that needs Shift keeps it under Control (Control++ zooms)', () => {
    const s = parseKeyCombo('Control++');
    expect(s[1]).toEqual({ label: '+', keysym: 0x2b, shift: true });
  });

  test('combo() keys split and share the Shift rules', () => {
    expect(comboStrokes(['Control', 'Alt', 'Delete']).map((s) => s.keysym)).toEqual([0xffe3, 0xffe9, 0xffff]);
    expect(comboStrokes(['Control', 'c']).map((s) => s.keysym)).toEqual([0xffe3, 0x63]);
  });

  test('unknown key inside a combination', () => {
    expect(() => parseKeyCombo('Control+Foo')).toThrow(KeyNameError);
  });
});
