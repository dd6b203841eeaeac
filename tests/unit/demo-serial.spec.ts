import { test, expect } from '@playwright/test';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { SerialConsole } from '../../src/api/serial.js';

let dir: string;
let file: string;
test.beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'serial-'));
  file = path.join(dir, 'vm.serial.log');
});
test.afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

test('text, tail, mark and waitFor from a mark, as the guest appends', async () => {
  const serial = new SerialConsole(file);
  expect(serial.text()).toBe('');
  expect(serial.mark()).toBe(0);
  await fs.appendFile(file, 'boot\nREADY\n');
  expect(serial.text()).toBe('boot\nREADY\n');
  const from = serial.mark();
  expect(from).toBe(11);
  const waiting = serial.waitFor(/READY (\d+)/, { from, timeout: 5_000 });
  await fs.appendFile(file, 'line\nREADY 2\n');
  const m = await waiting;
  expect(m[1]).toBe('2');
  expect(serial.text().slice(from)).toBe('line\nREADY 2\n');
  expect(serial.tail(2)).toBe('READY 2\n');
  await expect(serial.waitFor('boot', { from, timeout: 300 })).rejects.toThrow(/did not happen within 300 ms/);
});

test('reads by offset: bytes already read are not read again', async () => {
  const serial = new SerialConsole(file);
  await fs.writeFile(file, 'AAAA\n');
  expect(serial.text()).toBe('AAAA\n');
  // Rewrite the old bytes in place (same size) and append: only the appended bytes are read.
  const h = await fs.open(file, 'r+');
  await h.write('BBBB', 0);
  await h.close();
  await fs.appendFile(file, 'CC\n');
  expect(serial.text()).toBe('AAAA\nCC\n');
});

test('a UTF-8 character split across two writes is read whole', async () => {
  const serial = new SerialConsole(file);
  const euro = Buffer.from('€', 'utf8');
  await fs.writeFile(file, Buffer.concat([Buffer.from('price: '), euro.subarray(0, 1)]));
  expect(serial.text()).toBe('price: ');
  await fs.appendFile(file, Buffer.concat([euro.subarray(1), Buffer.from('5\n')]));
  expect(serial.text()).toBe('price: €5\n');
  expect(serial.mark()).toBe('price: €5\n'.length);
});

test('only the newest characters are kept; offsets still count from the start of the log', async () => {
  const serial = new SerialConsole(file, { maxChars: 1000 });
  let all = '';
  for (let i = 0; i < 200; i++) {
    const line = `line ${String(i).padStart(4, '0')} ${'x'.repeat(40)}\n`;
    all += line;
    await fs.appendFile(file, line);
    if (i % 10 === 0) serial.mark(); // the guest writes while we poll
  }
  const text = serial.text();
  expect(text.length).toBeLessThanOrEqual(1250);
  expect(text.length).toBeGreaterThanOrEqual(1000);
  expect(all.endsWith(text)).toBe(true);
  expect(serial.mark()).toBe(all.length);
  expect(serial.tail(1)).toBe('');
  expect(serial.tail(2)).toBe(`line 0199 ${'x'.repeat(40)}\n`);
  // A wait from an offset inside the dropped part searches what is kept.
  await expect(serial.waitFor(/line 0199/, { from: 10, timeout: 1_000 })).resolves.toBeTruthy();
  // A wait from now sees only what comes after.
  const from = serial.mark();
  await expect(serial.waitFor(/line 0199/, { from, timeout: 300 })).rejects.toThrow(/did not happen/);
  await fs.appendFile(file, 'DONE\n');
  await expect(serial.waitFor('DONE', { from, timeout: 1_000 })).resolves.toBeTruthy();
});

test('a large log is read in one go but held to the cap', async () => {
  const serial = new SerialConsole(file, { maxChars: 64 * 1024 });
  await fs.writeFile(file, 'y'.repeat(5 * 1024 * 1024) + '\nEND\n');
  expect(serial.mark()).toBe(5 * 1024 * 1024 + 5);
  expect(serial.text().length).toBeLessThanOrEqual(80 * 1024);
  expect(serial.tail(2)).toBe('END\n');
});

test('a file deleted and written again is read as output that follows; a missing file keeps what was read', async () => {
  const serial = new SerialConsole(file);
  await fs.writeFile(file, 'first run\n');
  expect(serial.mark()).toBe(10);
  await fs.rm(file);
  expect(serial.text()).toBe('first run\n');
  await fs.writeFile(file, 'again\n');
  const m = await serial.waitFor('again', { from: 10, timeout: 1_000 });
  expect(m[0]).toBe('again');
  expect(serial.mark()).toBe(16);
  // Truncated in place: the same.
  await fs.truncate(file, 0);
  await fs.appendFile(file, 'z\n');
  expect(serial.mark()).toBe(18);
});
