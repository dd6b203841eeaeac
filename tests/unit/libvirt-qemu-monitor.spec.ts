/**
 * QemuMonitor's protocol against a stand-in QMP server on a unix socket: the greeting and
 * qmp_capabilities, replies matched by id, QEMU's errors, and a new connection (a new
 * generation) after QEMU went away. The e2e proof against QEMU itself is vnc-fast-typing.spec.ts.
 */
import { test, expect } from '@playwright/test';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { QemuMonitor } from '../../src/libvirt/qemu-monitor.js';

/** Answers like QEMU: a greeting, then each command by id; `query-name` with the connection's number, `fail` with an error, `hang` never. */
function qmpServer(path: string): Promise<{ server: Server; sockets: Socket[]; commands: string[] }> {
  const sockets: Socket[] = [];
  const commands: string[] = [];
  const server = createServer((socket) => {
    sockets.push(socket);
    const n = sockets.length;
    socket.write(JSON.stringify({ QMP: { version: {}, capabilities: [] } }) + '\r\n');
    let buffered = '';
    socket.on('data', (chunk) => {
      buffered += chunk.toString();
      for (let end; (end = buffered.indexOf('\n')) >= 0; buffered = buffered.slice(end + 1)) {
        const { execute, id } = JSON.parse(buffered.slice(0, end)) as { execute: string; id: number };
        commands.push(execute);
        // An event between replies, as QEMU sends them: not an answer to anything.
        socket.write(JSON.stringify({ event: 'RESUME', timestamp: {} }) + '\r\n');
        if (execute === 'hang') continue;
        const reply =
          execute === 'fail' ? { error: { class: 'GenericError', desc: 'no such device' }, id } : { return: execute === 'query-name' ? { n } : {}, id };
        socket.write(JSON.stringify(reply) + '\r\n');
      }
    });
  });
  return new Promise((resolve) => server.listen(path, () => resolve({ server, sockets, commands })));
}

test('commands get their own answers after the handshake; an error is an EQMP VmError; a QEMU gone and back is a new generation', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'qmp-'));
  const path = join(dir, 'qmp.sock');
  const { server, sockets, commands } = await qmpServer(path);
  const monitor = new QemuMonitor(path);
  try {
    const [a, b] = await Promise.all([monitor.execute<{ n: number }>('query-name'), monitor.execute('other')]);
    expect(a).toEqual({ n: 1 });
    expect(b).toEqual({});
    expect(commands.slice(0, 1)).toEqual(['qmp_capabilities']);
    expect(sockets).toHaveLength(1);
    expect(monitor.generation).toBe(1);
    await expect(monitor.execute('fail')).rejects.toMatchObject({ code: 'EQMP', message: /no such device/ });

    // QEMU restarted (a snapshot revert): a command under way fails, the next one connects again.
    const waiting = monitor.execute('hang');
    sockets[0]!.destroy();
    await expect(waiting).rejects.toMatchObject({ code: 'EQMP', message: /closed/ });
    expect(await monitor.execute<{ n: number }>('query-name')).toEqual({ n: 2 });
    expect(monitor.generation).toBe(2);

    monitor.close();
    await expect(monitor.execute('query-name')).rejects.toMatchObject({ code: 'EQMP' });
  } finally {
    monitor.close();
    server.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('no socket (a VM without a monitor, QEMU not started yet): an EQMP error at once, not a hang', async () => {
  const monitor = new QemuMonitor(join(tmpdir(), `no-such-qmp-${process.pid}.sock`));
  const t = performance.now();
  await expect(monitor.execute('query-name')).rejects.toMatchObject({ code: 'EQMP', message: /did not answer/ });
  expect(performance.now() - t).toBeLessThan(1_000);
});
