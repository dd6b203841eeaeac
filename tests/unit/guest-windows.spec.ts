import { test, expect } from '@playwright/test';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_GUEST_API } from '../../src/api/boot-request.js';
import { createLogger } from '../../src/log.js';
import type { GuestMessage } from '../../src/watchdog/guest-messages.js';
import type { WatchdogPort } from '../../src/watchdog/http/port.js';
import * as S from '../../src/watchdog/http/schemas.js';
import { ApiServers } from '../../src/watchdog/http/servers.js';

// The Windows guest scripts (AutoIt v3) can't run here. What can be checked is: their syntax (a
// small tokenizer below), their includes, the URLs they build (sent to the real guest listener),
// and the reasons they send (against the API's schema).

const DIR = path.resolve('guest/windows');
const SCRIPTS = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.au3'))
  .sort();

/** One logical line: continuations joined, the comment cut off, each string literal replaced by §n§. */
interface Line {
  no: number;
  code: string;
  strings: string[];
}

function scan(file: string, text: string): { lines: Line[]; errors: string[] } {
  const errors: string[] = [];
  const lines: Line[] = [];
  let inBlockComment = false;
  let pending: Line | undefined;
  text.split(/\r?\n/).forEach((raw, i) => {
    const no = i + 1;
    const trimmed = raw.trim();
    if (/^#(cs|comments-start)\b/i.test(trimmed)) {
      inBlockComment = true;
      return;
    }
    if (/^#(ce|comments-end)\b/i.test(trimmed)) {
      if (!inBlockComment) errors.push(`${file}:${no}: #ce without #cs`);
      inBlockComment = false;
      return;
    }
    if (inBlockComment) return;
    const strings = pending?.strings ?? [];
    let code = '';
    for (let j = 0; j < raw.length; j++) {
      const c = raw.charAt(j);
      if (c === ';') break;
      if (c !== '"' && c !== "'") {
        code += c;
        continue;
      }
      // AutoIt strings: "..." or '...', the quote doubled inside.
      let value = '';
      let k = j + 1;
      let closed = false;
      while (k < raw.length) {
        if (raw.charAt(k) === c) {
          if (raw.charAt(k + 1) === c) {
            value += c;
            k += 2;
            continue;
          }
          closed = true;
          break;
        }
        value += raw.charAt(k++);
      }
      if (!closed) {
        errors.push(`${file}:${no}: unclosed ${c} string`);
        break;
      }
      code += `§${strings.length}§`;
      strings.push(value);
      j = k;
    }
    code = code.trim();
    const continues = /(^|\s)_$/.test(code);
    if (continues) code = code.slice(0, -1).trim();
    const line = pending ? { no: pending.no, code: `${pending.code} ${code}`, strings } : { no, code, strings };
    if (continues) pending = line;
    else {
      pending = undefined;
      if (line.code) lines.push(line);
    }
  });
  if (inBlockComment) errors.push(`${file}: #cs never closed`);
  if (pending) errors.push(`${file}:${pending.no}: a line continuation at the end of the file`);
  return { lines, errors };
}

const OPENERS: Record<string, string> = {
  func: 'endfunc',
  while: 'wend',
  for: 'next',
  do: 'until',
  switch: 'endswitch',
  select: 'endselect',
  with: 'endwith',
  if: 'endif',
};
const LOOPS = ['while', 'for', 'do'];

/** Block structure, brackets, and keywords only allowed inside a block. */
function structure(file: string, lines: Line[]): string[] {
  const errors: string[] = [];
  const stack: { kw: string; no: number }[] = [];
  for (const { no, code } of lines) {
    if (code.startsWith('#')) continue;
    let depth = 0;
    for (const ch of code) {
      if (ch === '(' || ch === '[') depth++;
      if (ch === ')' || ch === ']') depth--;
      if (depth < 0) break;
    }
    if (depth !== 0) errors.push(`${file}:${no}: unbalanced brackets`);
    if (/\b(ExitLoop|ContinueLoop)\b/i.test(code) && !stack.some((b) => LOOPS.includes(b.kw)))
      errors.push(`${file}:${no}: ExitLoop/ContinueLoop outside a loop`);
    if (/(^|\bThen\s+)Return\b/i.test(code) && !stack.some((b) => b.kw === 'func')) errors.push(`${file}:${no}: Return outside a Func`);
    const word = /^([A-Za-z]+)/.exec(code)?.[1]?.toLowerCase() ?? '';
    const top = stack.at(-1);
    if (word === 'if') {
      if (!/\bThen\b/i.test(code)) errors.push(`${file}:${no}: If without Then`);
      else if (/\bThen$/i.test(code)) stack.push({ kw: 'if', no });
      continue;
    }
    if (word in OPENERS) {
      if (word === 'func' && stack.length > 0) errors.push(`${file}:${no}: Func inside ${stack.map((b) => b.kw).join('/')}`);
      stack.push({ kw: word, no });
      continue;
    }
    const opener = Object.keys(OPENERS).find((k) => OPENERS[k] === word);
    if (opener) {
      stack.pop();
      if (top?.kw !== opener) errors.push(`${file}:${no}: ${word} closes ${top ? `${top.kw} of line ${top.no}` : 'nothing'}`);
      continue;
    }
    if ((word === 'else' || word === 'elseif') && top?.kw !== 'if') errors.push(`${file}:${no}: ${word} outside an If block`);
    if (word === 'elseif' && !/\bThen$/i.test(code)) errors.push(`${file}:${no}: ElseIf without Then`);
    if (word === 'case' && top?.kw !== 'switch' && top?.kw !== 'select') errors.push(`${file}:${no}: Case outside Switch/Select`);
  }
  for (const b of stack) errors.push(`${file}:${b.no}: ${b.kw} never closed`);
  return errors;
}

/** Splits at commas outside brackets. */
function topLevel(text: string): string[] {
  const parts = [''];
  let depth = 0;
  for (const ch of text) {
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth--;
    if (ch === ',' && depth === 0) parts.push('');
    else parts[parts.length - 1] += ch;
  }
  return parts;
}

/** The variables and functions a file declares. */
function declarations(lines: Line[]): { vars: Set<string>; funcs: Set<string> } {
  const vars = new Set<string>();
  const funcs = new Set<string>();
  for (const { code } of lines) {
    const decl = /^(?:(?:Global|Local|Dim|Static)\s+)?(?:Const\s+)?(?=\$)(.*)$/i.exec(code);
    if (/^(Global|Local|Dim|Static|Const)\b/i.test(code) && decl?.[1])
      for (const part of topLevel(decl[1])) {
        const name = /^\s*\$(\w+)/.exec(part)?.[1];
        if (name) vars.add(name.toLowerCase());
      }
    const func = /^Func\s+(\w+)\s*\((.*)\)$/i.exec(code);
    if (func?.[1]) {
      funcs.add(func[1].toLowerCase());
      for (const part of topLevel(func[2] ?? '')) {
        const name = /^\s*(?:(?:ByRef|Const)\s+)*\$(\w+)/i.exec(part)?.[1];
        if (name) vars.add(name.toLowerCase());
      }
    }
    const loopVar = /^For\s+\$(\w+)/i.exec(code)?.[1];
    if (loopVar) vars.add(loopVar.toLowerCase());
  }
  return { vars, funcs };
}

interface Script {
  file: string;
  lines: Line[];
  errors: string[];
  includes: string[];
}

function load(file: string, text: string): Script {
  const { lines, errors } = scan(file, text);
  const includes: string[] = [];
  for (const { no, code, strings } of lines) {
    const inc = /^#include\s+(.*)$/i.exec(code)?.[1];
    if (inc === undefined) continue;
    const literal = /^§(\d+)§$/.exec(inc)?.[1];
    const target = literal === undefined ? undefined : strings[Number(literal)];
    if (target === undefined) errors.push(`${file}:${no}: #include ${inc}: only "file.au3" from this folder (no standard UDFs: the scripts ship alone)`);
    else includes.push(target);
  }
  return { file, lines, errors: [...errors, ...structure(file, lines)], includes };
}

const scripts = new Map(SCRIPTS.map((f) => [f, load(f, fs.readFileSync(path.join(DIR, f), 'utf8'))]));

/** The file and everything it includes, transitively. */
function withIncludes(file: string, seen = new Set<string>()): Script[] {
  const script = scripts.get(file);
  if (!script || seen.has(file)) return [];
  seen.add(file);
  return [script, ...script.includes.flatMap((inc) => withIncludes(inc, seen))];
}

/** config.au3's `Global Const $NAME = value` settings. */
const config = new Map<string, string | number>();
for (const { code, strings } of scripts.get('config.au3')?.lines ?? []) {
  const m = /^Global\s+Const\s+\$(\w+)\s*=\s*(.+)$/i.exec(code);
  if (!m?.[1] || m[2] === undefined) continue;
  const literal = /^§(\d+)§$/.exec(m[2])?.[1];
  config.set(m[1], literal !== undefined ? (strings[Number(literal)] ?? '') : Number(m[2]));
}

test('the checks catch broken AutoIt (they can fail)', () => {
  const broken = (text: string) => load('broken.au3', text).errors;
  expect(broken('Func _A()\n\tWhile 1\n\tEndFunc\n')).not.toEqual([]);
  expect(broken('If $a Then\n\t$b = 1\n')).not.toEqual([]);
  expect(broken('$a = "unclosed\n')).not.toEqual([]);
  expect(broken('For $i = 1 To 3\nWEnd\n')).not.toEqual([]);
  expect(broken('ExitLoop\n')).not.toEqual([]);
  expect(broken('Return 1\n')).not.toEqual([]);
  expect(broken('#include <Timers.au3>\n')).not.toEqual([]);
  expect(broken('$a = _F(1\n')).not.toEqual([]);
  expect(broken('Switch $a\n\tCase 1\n')).not.toEqual([]);
  // and accept what is right: one-line If, doubled quotes, continuations, comments
  expect(broken('If $a Then Return\n')).toEqual(['broken.au3:1: Return outside a Func']);
  expect(
    broken('Func _A($b)\n\tIf $b Then Return "it""s ; not a comment"\n\tLocal $c = 1 + _\n\t\t2 ; comment (\n\tDo\n\t\t$c += 1\n\tUntil $c > 3\nEndFunc\n'),
  ).toEqual([]);
});

for (const file of SCRIPTS) {
  test(`${file}: blocks close, strings close, includes resolve, names are declared`, () => {
    const script = scripts.get(file);
    expect(script).toBeDefined();
    if (!script) return;
    expect(script.errors).toEqual([]);
    for (const inc of script.includes) expect(SCRIPTS, `${file} includes ${inc}`).toContain(inc);
    const all = withIncludes(file);
    const vars = new Set(all.flatMap((s) => [...declarations(s.lines).vars]));
    const funcs = new Set(all.flatMap((s) => [...declarations(s.lines).funcs]));
    const undeclared: string[] = [];
    for (const { no, code, strings } of script.lines) {
      for (const m of code.matchAll(/\$(\w+)/g)) if (m[1] && !vars.has(m[1].toLowerCase())) undeclared.push(`${file}:${no}: $${m[1]}`);
      for (const m of code.matchAll(/\b(_\w+)\s*\(/g)) if (m[1] && !funcs.has(m[1].toLowerCase())) undeclared.push(`${file}:${no}: ${m[1]}()`);
      // ObjEvent names its handler in a string.
      const handler = /ObjEvent\(§\d+§\s*,\s*§(\d+)§\)/.exec(code)?.[1];
      const name = handler === undefined ? undefined : strings[Number(handler)];
      if (name !== undefined && !funcs.has(name.toLowerCase())) undeclared.push(`${file}:${no}: ObjEvent handler ${name}`);
    }
    expect(undeclared).toEqual([]);
  });
}

test('the host URL is the guest API address demotool serves, and lives in config.au3 only', () => {
  expect(config.get('DEMOTOOL_HOST')).toBe(`http://${DEFAULT_GUEST_API.address}:${DEFAULT_GUEST_API.port}`);
  for (const file of SCRIPTS.filter((f) => f !== 'config.au3'))
    expect(fs.readFileSync(path.join(DIR, file), 'utf8'), `${file} holds an address`).not.toMatch(/https?:\/\/|\b\d+\.\d+\.\d+\.\d+\b/);
});

test("the heartbeat's siblings are the scripts in the folder", () => {
  const siblings = String(config.get('SIBLING_SCRIPTS'))
    .split('|')
    .map((s) => `${s.trim()}.au3`)
    .sort();
  expect(siblings).toEqual(SCRIPTS.filter((f) => !['config.au3', 'api.au3', 'heartbeat.au3', 'start-all.au3'].includes(f)));
  // ...and it reports which one is missing, with a reason.
  expect(fs.readFileSync(path.join(DIR, 'heartbeat.au3'), 'utf8')).toContain('_Demotool_RequestRevert("heartbeat script: missing sibling " & $sMissing');
});

/** Every revert request's reason, worst case: unknown variables count 64 characters. */
test('revert reasons and severities fit the API schema', () => {
  const maxLength = S.revertRequest.properties.reason.maxLength;
  expect(config.get('REASON_MAX_CHARS')).toBe(maxLength);
  const calls: { where: string; reason: string; severity: string | undefined }[] = [];
  for (const file of SCRIPTS)
    for (const { no, code, strings } of scripts.get(file)?.lines ?? []) {
      if (/^Func\b/i.test(code)) continue;
      const args = /_Demotool_RequestRevert\((.*)\)/.exec(code)?.[1];
      if (args === undefined) continue;
      const [reason = '', severity] = topLevel(args);
      const text = reason
        .split('&')
        .map((part) => {
          const t = part.trim();
          const literal = /^§(\d+)§$/.exec(t)?.[1];
          if (literal !== undefined) return strings[Number(literal)] ?? '';
          const setting = /^\$(\w+)$/.exec(t)?.[1];
          return setting !== undefined && config.has(setting) ? String(config.get(setting)) : 'x'.repeat(64);
        })
        .join('');
      const sev = /^\s*§(\d+)§\s*$/.exec(severity ?? '')?.[1];
      calls.push({ where: `${file}:${no}`, reason: text, severity: sev === undefined ? undefined : strings[Number(sev)] });
    }
  // heartbeat (missing sibling), idle monitor, process watchdog
  expect(calls.length).toBeGreaterThanOrEqual(3);
  for (const c of calls) {
    expect(c.reason.length, c.where).toBeLessThanOrEqual(maxLength);
    expect(c.reason.length, c.where).toBeGreaterThan(0);
    expect(S.revertRequest.properties.severity.enum, c.where).toContain(c.severity);
  }
});

/** The watchdog as the guest routes see it: records what arrives. */
class RecordingWatchdog implements WatchdogPort {
  readonly vm = { name: 'artwork' };
  readonly options = { snapshot: 'ready' };
  readonly messages: GuestMessage[] = [];
  receive(message: GuestMessage): { accepted: boolean } {
    this.messages.push(message);
    return { accepted: true };
  }
  heartbeatStatus() {
    return { enabled: true, timeout: 10, last_heartbeat: null, time_since_heartbeat: 0, is_timed_out: false, has_received_heartbeat: false };
  }
  status(): never {
    throw new Error('not a guest route');
  }
  revert(): never {
    throw new Error('not a guest route');
  }
  start(): never {
    throw new Error('not a guest route');
  }
  stop(): never {
    throw new Error('not a guest route');
  }
  setAutoRevert(): never {
    throw new Error('not a guest route');
  }
  snapshots(): never {
    throw new Error('not a guest route');
  }
  createSnapshot(): never {
    throw new Error('not a guest route');
  }
  deleteSnapshot(): never {
    throw new Error('not a guest route');
  }
}

/** A sample value for each query parameter the scripts send, and where the watchdog must see it. */
const SAMPLES: Record<string, { value: string; field: string; expected: unknown }> = {
  reason: { value: 'process watchdog: artwörk.exe is not running & gone', field: 'reason', expected: 'process watchdog: artwörk.exe is not running & gone' },
  severity: { value: 'warning', field: 'severity', expected: 'warning' },
  idle_duration: { value: '12', field: 'idleSeconds', expected: 12 },
};

/** The scripts' percent-encoding (api.au3's _Demotool_UrlEncode): UTF-8, all but A-Z a-z 0-9 - . _ ~ encoded. */
const urlEncode = (s: string) =>
  [...Buffer.from(s, 'utf8')]
    .map((b) => (/[A-Za-z0-9._~-]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('');

test('every URL the scripts build is served by the guest listener, and its parameters reach the watchdog', async () => {
  const built: { where: string; path: string; params: string[] }[] = [];
  for (const file of SCRIPTS)
    for (const { no, code, strings } of scripts.get(file)?.lines ?? []) {
      const at = /\$DEMOTOOL_HOST\s*&\s*§(\d+)§/.exec(code);
      if (!at?.[1]) continue;
      const first = strings[Number(at[1])] ?? '';
      // The parameter names: in the first literal after the host and those that follow it.
      const rest = strings.slice(Number(at[1])).join('');
      built.push({ where: `${file}:${no}`, path: first.split('?')[0] ?? '', params: [...rest.matchAll(/[?&](\w+)=/g)].map((m) => m[1] ?? '') });
    }
  expect(built.map((b) => b.path).sort()).toEqual(['/api/v1/heartbeat', '/api/v1/idle/reset', '/api/v1/revert/request']);

  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'guest-api-'));
  const socketPath = path.join(dir, 'api.sock');
  const watchdog = new RecordingWatchdog();
  const previous = process.env.DEMOTOOL_LOG_LEVEL;
  process.env.DEMOTOOL_LOG_LEVEL = 'silent';
  const servers = await ApiServers.start({ watchdog, guestSocket: socketPath, control: false, log: createLogger('test') });
  try {
    for (const b of built) {
      const query = b.params.map((p) => {
        const sample = SAMPLES[p];
        if (!sample) throw new Error(`${b.where}: no sample for parameter ${p}: add one to SAMPLES`);
        return `${p}=${urlEncode(sample.value)}`;
      });
      const url = query.length ? `${b.path}?${query.join('&')}` : b.path;
      // AutoIt's WinHttp request is a GET.
      const status = await new Promise<number>((resolve, reject) => {
        http
          .get({ socketPath, path: url }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          })
          .on('error', reject);
      });
      expect(status, `${b.where}: GET ${url}`).toBe(200);
      const message = watchdog.messages.at(-1) as Record<string, unknown> | undefined;
      expect(message, b.where).toBeDefined();
      for (const p of b.params) expect(message?.[SAMPLES[p]?.field ?? ''], `${b.where}: ${p}`).toEqual(SAMPLES[p]?.expected);
    }
    expect(watchdog.messages.map((m) => m.kind).sort()).toEqual(['heartbeat', 'idle-reset', 'revert-request']);
  } finally {
    await servers.close();
    if (previous === undefined) delete process.env.DEMOTOOL_LOG_LEVEL;
    else process.env.DEMOTOOL_LOG_LEVEL = previous;
    await fsp.rm(dir, { recursive: true, force: true });
  }
});
