import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { domainXml, type DomainSpec } from '../../src/libvirt/domain-xml.js';
import { Domain } from '../../src/libvirt/domain.js';
import { Virsh, virshShellLine, virshShellOutput } from '../../src/libvirt/virsh.js';
import { GuestAgent } from '../../src/api/guest-agent.js';
import { vncAttachCommand, vncTcpRequested } from '../../src/api/vnc-access.js';
import { domainSpec } from '../support/domain-spec.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const vncAccess = path.resolve(here, '../../src/api/vnc-access.ts');

const spec = domainSpec('demo-x-ab12cd', {}, '/c/run');

test('domain XML: VNC listens on the unix socket it is given, never on TCP unless asked', () => {
  const xml = domainXml({ ...spec, vnc: { socket: '/c/run/vnc/demo-x-ab12cd.sock' } });
  expect(xml).toContain("<graphics type='vnc'>\n      <listen type='socket' socket='/c/run/vnc/demo-x-ab12cd.sock'/>\n    </graphics>");
  expect(xml).not.toContain('127.0.0.1');
  expect(xml).not.toContain('autoport');
  // Opt-in (DEMOTOOL_VNC_TCP=1): the old loopback listener.
  expect(domainXml({ ...spec, vnc: { tcp: '127.0.0.1' } })).toContain("<graphics type='vnc' autoport='yes' listen='127.0.0.1'>");
  // Nothing said: no VNC server at all, not an open one.
  expect(domainXml(spec)).not.toContain('<graphics');
  for (const bad of [{ socket: 'relative.sock' }, { tcp: '0.0.0.0' }, { socket: 42 }])
    expect(() => domainXml({ ...spec, vnc: bad as unknown as DomainSpec['vnc'] })).toThrow(/bad VNC listener/);
});

test('domain XML: our own QEMU monitor listens on the unix socket it is given, and only when given one', () => {
  expect(domainXml({ ...spec, monitorSocket: '/c/run/vnc/demo-x-ab12cd.qmp.sock' })).toContain(
    "<qemu:arg value='-qmp'/>\n    <qemu:arg value='unix:/c/run/vnc/demo-x-ab12cd.qmp.sock,server=on,wait=off'/>",
  );
  // QEMU's option syntax: a comma in the path is doubled, so it can't add an option of its own.
  expect(domainXml({ ...spec, monitorSocket: '/c/a,b/x.sock' })).toContain("value='unix:/c/a,,b/x.sock,server=on,wait=off'");
  expect(domainXml(spec)).not.toContain('-qmp');
});

test('DEMOTOOL_VNC_TCP opts in to TCP; the attach recipe bridges a socket to 127.0.0.1 only', () => {
  expect(vncTcpRequested({})).toBe(false);
  for (const off of ['', '0', 'false', 'no']) expect(vncTcpRequested({ DEMOTOOL_VNC_TCP: off })).toBe(false);
  for (const on of ['1', 'yes', 'true']) expect(vncTcpRequested({ DEMOTOOL_VNC_TCP: on })).toBe(true);
  const recipe = vncAttachCommand({ socket: '/r/vnc/demo-a.sock' });
  expect(recipe).toMatch(/^socat TCP-LISTEN:5999,bind=127\.0\.0\.1,reuseaddr,fork UNIX-CONNECT:\/r\/vnc\/demo-a\.sock/);
  expect(vncAttachCommand({ socket: '/r/x.sock' }, 6001)).toContain('TCP-LISTEN:6001,bind=127.0.0.1');
});

test("virsh shell lines quote every argument; the shell's prompt and echo are taken off its output", () => {
  expect(virshShellLine(['qemu-agent-command', 'dom', `{"a":"it's"}`])).toBe(`'qemu-agent-command' 'dom' '{"a":"it'\\''s"}'`);
  expect(() => virshShellLine(['echo', 'a\nb'])).toThrow(/newline/);
  // readline would take a tab as completion and drop it
  expect(() => virshShellLine(['echo', 'a\tb'])).toThrow(/tab/);
  const line = virshShellLine(['qemu-agent-command', 'dom', '{}']);
  // virsh built with readline echoes the input line; without, the output follows the prompt.
  expect(virshShellOutput(`virsh # ${line}\n{"return":{}}\nvirsh # \n`)).toBe('{"return":{}}');
  expect(virshShellOutput(`virsh # {"return":{}}\nvirsh # \n`)).toBe('{"return":{}}');
  expect(virshShellOutput(`virsh > ${line}\n{"return":1}\nvirsh > \n`)).toBe('{"return":1}');
  // Under TERM=dumb readline scrolls a long line: a carriage return, '<' and the line's tail.
  expect(virshShellOutput(`virsh # \r<${line.slice(-70)}\n{"return":2}\nvirsh # \n`)).toBe('{"return":2}');
});

test("virsh's own shell gives back a long argument exactly, whatever TERM it runs under", async () => {
  // test:///default is libvirt's built-in test driver: real virsh and readline, no daemon.
  const virsh = new Virsh({ uri: 'test:///default' });
  const text = `{"execute":"guest-exec","arguments":{"path":"/bin/sh","arg":["-c","nohup x ${'y'.repeat(300)} &"]}} it's 日本`;
  const oldTerm = process.env.TERM;
  try {
    for (const term of [undefined, 'dumb', 'xterm']) {
      if (term === undefined) delete process.env.TERM;
      else process.env.TERM = term;
      expect(await virsh.runPrivate(['echo', text]), `TERM=${term}`).toBe(text);
    }
  } finally {
    if (oldTerm === undefined) delete process.env.TERM;
    else process.env.TERM = oldTerm;
  }
});

test('guest commands and their environment never show on a command line (ps)', async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-fake-virsh-'));
  const log = path.join(dir, 'calls');
  // A virsh that answers like its shell does, slowly enough to be seen by ps.
  await fs.writeFile(
    path.join(dir, 'virsh'),
    `#!/bin/sh
printf '%s\\n' "$*" >> '${log}.argv'
input=$(cat)
printf '%s\\n' "$input" >> '${log}.stdin'
sleep 0.6
case "$input" in
  *guest-exec-status*) printf 'virsh # %s\\n{"return":{"exited":true,"exitcode":0,"out-data":"b2sK"}}\\nvirsh # \\n' "$input" ;;
  *guest-exec*) printf 'virsh # %s\\n{"return":{"pid":77}}\\nvirsh # \\n' "$input" ;;
  *) printf 'virsh # %s\\n{"return":{}}\\nvirsh # \\n' "$input" ;;
esac
`,
    { mode: 0o755 },
  );
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir}:${oldPath}`;
  const seen: string[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      seen.push((await execa('ps', ['-eo', 'args'])).stdout);
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  try {
    const agent = new GuestAgent(new Domain('demo-secret-ab12cd', new Virsh({ uri: 'test:///default' })), true);
    const result = await agent.exec('echo SECRET-COMMAND-7f3e > /tmp/x', { env: ['TOKEN=SECRET-ENV-91c2'] });
    expect(result).toEqual({ stdout: 'ok\n', stderr: '', exitCode: 0 });
  } finally {
    sampling = false;
    await sampler;
    process.env.PATH = oldPath;
  }
  const stdin = await fs.readFile(`${log}.stdin`, 'utf8');
  const argv = await fs.readFile(`${log}.argv`, 'utf8');
  await fs.rm(dir, { recursive: true, force: true });
  // virsh got the command and its environment, on stdin...
  expect(stdin).toContain('SECRET-COMMAND-7f3e');
  expect(stdin).toContain('TOKEN=SECRET-ENV-91c2');
  // ...and nothing of them on its command line, which ps showed while it ran.
  expect(argv).not.toMatch(/SECRET|guest-exec/);
  expect(seen.some((s) => s.includes(`${dir}/virsh`))).toBe(true);
  expect(seen.filter((s) => s.includes('SECRET-'))).toEqual([]);
});

test("a reply that isn't the agent's JSON is a VmError that shows the reply and never the request", async () => {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-fake-virsh-'));
  // A virsh whose echo is not recognised, then one that prints no JSON.
  await fs.writeFile(
    path.join(dir, 'virsh'),
    `#!/bin/sh
input=$(cat)
case "$input" in
  *guest-ping*) printf 'virsh # X%s\\n{"return":{}}\\nvirsh # \\n' "$input" ;;
  *) printf 'virsh # \\nsomething else\\nvirsh # \\n' ;;
esac
`,
    { mode: 0o755 },
  );
  const oldPath = process.env.PATH;
  process.env.PATH = `${dir}:${oldPath}`;
  try {
    const domain = new Domain('demo-reply-ab12cd', new Virsh({ uri: 'test:///default' }));
    const echoed = await domain.agent('guest-ping', { secret: 'SECRET-91c2' }).catch((e: unknown) => e);
    expect(echoed).toMatchObject({ name: 'VmError', code: 'EAGENTREPLY' });
    expect((echoed as Error).message).toContain('holds the request, not shown');
    expect((echoed as Error).message).not.toContain('SECRET');
    const other = await domain.agent('guest-info').catch((e: unknown) => e);
    expect(other).toMatchObject({ name: 'VmError', code: 'EAGENTREPLY' });
    expect((other as Error).message).toContain('"something else"');
  } finally {
    process.env.PATH = oldPath;
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('the VNC socket directory is made 0700 and refused when it is a symlink', async () => {
  const cache = await fs.mkdtemp(path.join(os.tmpdir(), 'demotool-vnc-dir-'));
  const script = `
import { prepareVncListen, vncSocketDir } from ${JSON.stringify(vncAccess)};
import fs from 'node:fs';
const step = process.argv[2];
if (step === 'wide') { fs.mkdirSync(vncSocketDir(), { recursive: true }); fs.chmodSync(vncSocketDir(), 0o755); }
if (step === 'symlink') { fs.rmSync(vncSocketDir(), { recursive: true, force: true }); fs.symlinkSync('/tmp', vncSocketDir()); }
try {
  const listen = await prepareVncListen('demo-a-ab12cd');
  console.log(JSON.stringify({ listen, mode: (fs.lstatSync(vncSocketDir()).mode & 0o777).toString(8) }));
} catch (e) { console.log(JSON.stringify({ error: e.code })); }
`;
  const file = path.join(cache, 'probe.mts');
  await fs.writeFile(file, script);
  const run = async (step: string, env: Record<string, string> = {}) =>
    JSON.parse((await execa('npx', ['tsx', file, step], { env: { XDG_CACHE_HOME: cache, DEMOTOOL_VNC_TCP: '', ...env } })).stdout.trim().split('\n').pop()!);
  try {
    const fresh = await run('fresh');
    expect(fresh).toEqual({ listen: { socket: path.join(cache, 'demotool', 'run', 'vnc', 'demo-a-ab12cd.sock') }, mode: '700' });
    expect((await run('wide')).mode).toBe('700');
    expect(await run('symlink')).toEqual({ error: 'EVNCDIR' });
    expect((await run('fresh', { DEMOTOOL_VNC_TCP: '1' })).listen).toEqual({ tcp: '127.0.0.1' });
  } finally {
    await fs.rm(cache, { recursive: true, force: true });
  }
});
