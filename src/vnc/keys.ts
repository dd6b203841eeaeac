/**
 * Key names → X11 keysyms (what RFB KeyEvents carry). Names follow Playwright
 * (Enter, ArrowLeft, Control...), plus KeyA/Digit1-style codes and a few openQA aliases.
 *
 * QEMU turns keysyms into scancodes with a US layout and does NOT add Shift for shifted
 * keysyms: 'A' or '!' arrive unshifted unless Shift is held. So every stroke says whether
 * it needs Shift_L wrapped around it.
 */
import { KeyNameError } from './errors.js';

export interface KeyStroke {
  /** Canonical name, for logs and the keycast overlay ('Enter', 'a', 'Control'). */
  label: string;
  keysym: number;
  /** Needs Shift_L held around it to produce the character. */
  shift: boolean;
}

export const Keysym = {
  Enter: 0xff0d,
  Tab: 0xff09,
  Shift: 0xffe1,
  ShiftRight: 0xffe2,
  Control: 0xffe3,
  ControlRight: 0xffe4,
  Alt: 0xffe9,
  AltRight: 0xffea,
  Super: 0xffeb,
  SuperRight: 0xffec,
} as const;

/** Canonical Playwright names and their keysyms. */
const NAMED: Record<string, number> = {
  Enter: Keysym.Enter,
  Tab: Keysym.Tab,
  Escape: 0xff1b,
  Backspace: 0xff08,
  Delete: 0xffff,
  Insert: 0xff63,
  Home: 0xff50,
  End: 0xff57,
  PageUp: 0xff55,
  PageDown: 0xff56,
  ArrowLeft: 0xff51,
  ArrowUp: 0xff52,
  ArrowRight: 0xff53,
  ArrowDown: 0xff54,
  Space: 0x20,
  Shift: Keysym.Shift,
  ShiftLeft: Keysym.Shift,
  ShiftRight: Keysym.ShiftRight,
  Control: Keysym.Control,
  ControlLeft: Keysym.Control,
  ControlRight: Keysym.ControlRight,
  Alt: Keysym.Alt,
  AltLeft: Keysym.Alt,
  AltRight: Keysym.AltRight,
  AltGraph: 0xfe03,
  // Playwright's Meta is the Windows/Command key: Super on Linux desktops
  Meta: Keysym.Super,
  MetaLeft: Keysym.Super,
  MetaRight: Keysym.SuperRight,
  CapsLock: 0xffe5,
  NumLock: 0xff7f,
  ScrollLock: 0xff14,
  PrintScreen: 0xff61,
  Pause: 0xff13,
  ContextMenu: 0xff67,
  Backquote: 0x60,
  Minus: 0x2d,
  Equal: 0x3d,
  BracketLeft: 0x5b,
  BracketRight: 0x5d,
  Backslash: 0x5c,
  Semicolon: 0x3b,
  Quote: 0x27,
  Comma: 0x2c,
  Period: 0x2e,
  Slash: 0x2f,
};
for (let i = 1; i <= 24; i++) NAMED[`F${i}`] = 0xffbe + i - 1;
for (let c = 0; c < 26; c++) NAMED[`Key${String.fromCharCode(65 + c)}`] = 0x61 + c; // KeyA → 'a'
for (let d = 0; d <= 9; d++) NAMED[`Digit${d}`] = 0x30 + d;

/** Other spellings people write (X11, openQA, Playwright's ControlOrMeta). Lower-case keys. */
const ALIASES: Record<string, string> = {
  ctrl: 'Control',
  controlormeta: 'Control',
  super: 'Meta',
  win: 'Meta',
  cmd: 'Meta',
  command: 'Meta',
  option: 'Alt',
  altgr: 'AltGraph',
  return: 'Enter',
  ret: 'Enter',
  esc: 'Escape',
  del: 'Delete',
  ins: 'Insert',
  bksp: 'Backspace',
  spc: 'Space',
  spacebar: 'Space',
  up: 'ArrowUp',
  down: 'ArrowDown',
  left: 'ArrowLeft',
  right: 'ArrowRight',
  pgup: 'PageUp',
  pgdn: 'PageDown',
  menu: 'ContextMenu',
  print: 'PrintScreen',
  sysrq: 'PrintScreen',
};

/** Canonical name and keysym by lower-case name: names are case-insensitive. */
const BY_LOWER = new Map(Object.entries(NAMED).map(([name, keysym]) => [name.toLowerCase(), { name, keysym }]));

/** US-layout characters that need Shift. */
const SHIFTED = new Set('~!@#$%^&*()_+{}|:"<>?'.split(''));

const MODIFIERS = new Set([
  Keysym.Shift,
  Keysym.ShiftRight,
  Keysym.Control,
  Keysym.ControlRight,
  Keysym.Alt,
  Keysym.AltRight,
  Keysym.Super,
  Keysym.SuperRight,
  0xfe03,
]);

function isModifier(keysym: number): boolean {
  return MODIFIERS.has(keysym);
}

function validNames(): string {
  return (
    'Enter, Tab, Escape, Backspace, Delete, Insert, Home, End, PageUp, PageDown, ' +
    'ArrowUp/Down/Left/Right, F1–F24, Space, Control (Ctrl, ControlOrMeta), Alt, Shift, Meta (Super), ' +
    'AltGraph, CapsLock, NumLock, ScrollLock, PrintScreen, Pause, ContextMenu, KeyA–KeyZ, Digit0–Digit9, ' +
    'Minus, Equal, BracketLeft/Right, Backslash, Semicolon, Quote, Comma, Period, Slash, Backquote, ' +
    'or any single printable ASCII character'
  );
}

/**
 * Keys whose scancode has an E0 prefix: two bytes in a PS/2 keyboard's queue for each press and
 * each release (set 1, which the i8042 translates to), where other keys take one. Print Screen
 * and Pause, longer still, depend on the modifiers held: they count one, as few as they may take.
 */
const E0_PREFIXED = new Set(
  [
    ...['ControlRight', 'AltRight', 'AltGraph', 'Meta', 'MetaRight', 'ContextMenu'],
    ...['Insert', 'Delete', 'Home', 'End', 'PageUp', 'PageDown', 'ArrowLeft', 'ArrowUp', 'ArrowRight', 'ArrowDown'],
  ].map((name) => NAMED[name]),
);

/** Bytes that pressing (or releasing) `stroke` puts in a PS/2 keyboard's queue, Shift included. */
export function ps2Bytes(stroke: KeyStroke): number {
  return (E0_PREFIXED.has(stroke.keysym) ? 2 : 1) + (stroke.shift ? 1 : 0);
}

/** One printable ASCII character (or \n, \t) as a stroke; this is what type() sends. */
export function strokeForChar(ch: string): KeyStroke {
  if (ch === '\n' || ch === '\r') return { label: 'Enter', keysym: Keysym.Enter, shift: false };
  if (ch === '\t') return { label: 'Tab', keysym: Keysym.Tab, shift: false };
  const code = ch.codePointAt(0) ?? 0;
  if (ch.length !== 1 || code < 0x20 || code > 0x7e) {
    const shown = JSON.stringify(ch);
    const cp = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new KeyNameError(
      `cannot type ${shown} (${cp}): only printable ASCII, \\n and \\t can be typed`,
      "QEMU maps VNC keysyms through a US keyboard layout; type non-ASCII text inside the guest (e.g. with printf '\\u00e9')",
    );
  }
  const shift = (ch >= 'A' && ch <= 'Z') || SHIFTED.has(ch);
  return { label: ch === ' ' ? 'Space' : ch, keysym: code, shift };
}

/** The keysym of one key name or single character ('Enter', 'a', '!', 'F5', 'KeyQ'). */
export function keysymFor(key: string): number {
  return strokeForKey(key).keysym;
}

/** One key name (no '+') as a stroke. Names are case-insensitive; single characters are not. */
function strokeForKey(key: string): KeyStroke {
  if (key.length === 1) {
    try {
      return strokeForChar(key);
    } catch {
      throw new KeyNameError(`unknown key ${JSON.stringify(key)}`, `valid keys: ${validNames()}`);
    }
  }
  const lower = key.toLowerCase();
  const alias = ALIASES[lower];
  const named = BY_LOWER.get(lower) ?? (alias === undefined ? undefined : BY_LOWER.get(alias.toLowerCase()));
  if (!named) throw new KeyNameError(`unknown key ${JSON.stringify(key)}`, `valid keys: ${validNames()}`);
  return { label: named.name, keysym: named.keysym, shift: false };
}

/** 'Control+Shift+T' → ['Control','Shift','T']; 'Control++' → ['Control','+']; '+' → ['+']. */
export function splitCombo(combo: string): string[] {
  if (combo === '+') return ['+'];
  const trailingPlus = combo.endsWith('++');
  const body = trailingPlus ? combo.slice(0, -2) : combo;
  const parts = body === '' && trailingPlus ? [] : body.split('+');
  if (trailingPlus) parts.push('+');
  if (parts.length === 0 || parts.some((p) => p === '')) {
    throw new KeyNameError(`malformed key combination ${JSON.stringify(combo)}`, "write keys joined by '+', e.g. 'Control+Alt+T'");
  }
  return parts;
}

/**
 * A combination in press order (release in reverse). A letter pressed together with
 * Control/Alt/Meta is the plain letter key: 'Control+C' is Ctrl+c (copy / SIGINT), not
 * Ctrl+Shift+c; Shift is only added to produce a character when nothing else asks for it.
 */
export function parseKeyCombo(combo: string): KeyStroke[] {
  return comboStrokes(splitCombo(combo));
}

/** The Shift rules of parseKeyCombo, for keys already split (combo('Control', '+')). */
export function comboStrokes(keys: string[]): KeyStroke[] {
  const strokes = keys.map(strokeForKey);
  const isShift = (s: KeyStroke) => s.keysym === Keysym.Shift || s.keysym === Keysym.ShiftRight;
  const explicitShift = strokes.some(isShift);
  const otherModifier = strokes.some((s) => isModifier(s.keysym) && !isShift(s));
  return strokes.map((s) => {
    const isLetter = s.label.length === 1 && /[A-Za-z]/.test(s.label);
    if (isLetter && (otherModifier || explicitShift)) {
      return { label: s.label.toUpperCase(), keysym: s.label.toLowerCase().charCodeAt(0), shift: false };
    }
    return explicitShift ? { ...s, shift: false } : s;
  });
}
