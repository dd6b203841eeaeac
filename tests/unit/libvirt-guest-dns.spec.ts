import { test, expect } from '@playwright/test';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import * as dnsPacket from 'dns-packet';
import { nxdomainAnswer } from '../../src/libvirt/nxdomain-dns.js';
import { DEFAULT_GUEST_NETWORK, GuestNetwork, guestNetworkAvailable, namespaceScript, type GuestNetworkSpec } from '../../src/libvirt/guest-network.js';

const run = promisify(execFile);
const spec = (o: Partial<GuestNetworkSpec> = {}): GuestNetworkSpec => ({ ...DEFAULT_GUEST_NETWORK, forwards: [], ...o });

test.describe('the namespace script', () => {
  test('DHCP always names the gateway as DNS server, with or without a relay; passt forwards no query', () => {
    for (const s of [spec(), spec({ dnsSocket: '/run/x/dns.sock' })]) {
      const script = namespaceScript(s, '/run/x/net.sock');
      expect(script).toContain('--dns 192.168.122.1 ');
      expect(script).not.toContain('--no-dhcp-dns');
      expect(script).not.toContain('--dns-forward');
    }
  });

  test('a DNS relay is one UDP socat on the loopback port 53 (start() always gives the script a dnsSocket: the services’ or its own)', () => {
    expect(namespaceScript(spec(), '/n.sock')).not.toContain('UDP');
    const script = namespaceScript(spec({ dnsSocket: '/run/x/dns.sock' }), '/n.sock');
    expect(script).toContain("socat UDP4-RECVFROM:53,bind=127.0.0.1,fork UNIX-CONNECT:'/run/x/dns.sock' &");
  });

  test('passt starts only once every relay listens (start() waits for passt alone)', () => {
    const script = namespaceScript(spec({ dnsSocket: '/run/x/dns.sock', forwards: [{ port: 8000, socket: '/s/api.sock' }] }), '/n.sock');
    const at = (text: string) => script.indexOf(text);
    expect(at('listening -t 8000')).toBeGreaterThan(at('socat TCP-LISTEN:8000'));
    expect(at('listening -u 53')).toBeGreaterThan(at('socat UDP4-RECVFROM:53'));
    expect(at('passt --foreground')).toBeGreaterThan(Math.max(at('listening -t 8000'), at('listening -u 53')));
  });

  test('web ports are TCP relays beside the guest API', () => {
    const script = namespaceScript(
      spec({
        forwards: [
          { port: 8000, socket: '/s/api.sock' },
          { port: 80, socket: '/s/http.sock' },
          { port: 443, socket: '/s/https.sock' },
        ],
      }),
      '/n.sock',
    );
    for (const [port, sock] of [
      [8000, 'api'],
      [80, 'http'],
      [443, 'https'],
    ])
      expect(script).toContain(`socat TCP-LISTEN:${port},bind=127.0.0.1,fork,reuseaddr UNIX-CONNECT:'/s/${sock}.sock' &`);
  });
});

test.describe('spec checks, before anything starts', () => {
  const bad: [string, Partial<GuestNetworkSpec>][] = [
    ['a DNS socket with a comma (a socat option)', { dnsSocket: '/s/dns.sock,fork' }],
    ['a DNS socket with a quote', { dnsSocket: "/s/d'ns.sock" }],
    ['a relative DNS socket', { dnsSocket: 'dns.sock' }],
    ['a forward socket with a colon', { forwards: [{ port: 80, socket: '/s/a:b' }] }],
    [
      'the same port twice',
      {
        forwards: [
          { port: 80, socket: '/s/a' },
          { port: 80, socket: '/s/b' },
        ],
      },
    ],
  ];
  for (const [what, change] of bad)
    test(`refused: ${what}`, async () => {
      await expect(GuestNetwork.start('/tmp/never-made.sock', spec(change))).rejects.toMatchObject({ code: 'EGUESTNET' });
    });
});

/** The helper's pid (unshare, the first process in the new network namespace). */
function helperPid(socket: string): number {
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv[0]?.endsWith('unshare') && argv.some((a) => a.includes(socket))) return Number(pid);
    } catch {
      // gone
    }
  }
  throw new Error('no helper');
}

/** Sends one datagram to the namespace's 127.0.0.1:53, as the guest's query arrives there through passt. */
async function queryInNamespace(pid: number, query: string | Buffer): Promise<Buffer> {
  const pending = run('nsenter', ['--target', String(pid), '--net', 'socat', '-t', '3', '-', 'UDP4:127.0.0.1:53'], { timeout: 10_000, encoding: 'buffer' });
  pending.child.stdin?.end(query);
  const { stdout } = await pending.catch((e: { stderr?: Buffer }) => ({ stdout: Buffer.from(`failed: ${e.stderr?.toString() ?? ''}`) }));
  return stdout;
}

test.describe('the DNS relay, really running', () => {
  test.skip(!guestNetworkAvailable() || process.getuid?.() !== 0, 'needs passt, socat and root (nsenter into the namespace)');
  let dir: string;
  let server: Server;
  const received: string[] = [];
  test.beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dt-dns-'));
    // One message per connection, answered and closed: the protocol NetworkServices' dnsSocket speaks.
    server = createServer((c) => c.once('data', (d) => (received.push(d.toString()), c.end(`answer to ${d.toString()}`))));
    await new Promise<void>((r) => server.listen(join(dir, 'dns.sock'), r));
  });
  test.afterAll(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('a datagram to the gateway port 53 reaches the unix socket, and its answer comes back as a datagram', async () => {
    const socket = join(dir, 'net.sock');
    const net = await GuestNetwork.start(socket, spec({ dnsSocket: join(dir, 'dns.sock') }));
    try {
      const pid = helperPid(socket);
      expect((await queryInNamespace(pid, 'q1')).toString()).toBe('answer to q1');
      // fork: every query gets its own relay
      expect((await queryInNamespace(pid, 'q2')).toString()).toBe('answer to q2');
      expect(received).toEqual(['q1', 'q2']);
    } finally {
      await net.close();
    }
  });

  test('without services every query gets NXDOMAIN from this process, its question echoed', async () => {
    const socket = join(dir, 'net2.sock');
    const net = await GuestNetwork.start(socket, spec());
    try {
      const query = dnsPacket.encode({ type: 'query', id: 4242, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'example.com' }] });
      const started = Date.now();
      const answer = dnsPacket.decode(await queryInNamespace(helperPid(socket), query));
      expect(answer).toMatchObject({ id: 4242, type: 'response', rcode: 'NXDOMAIN', questions: [{ type: 'A', name: 'example.com' }], answers: [] });
      expect(answer.flags! & dnsPacket.RECURSION_DESIRED).toBeTruthy();
      expect(Date.now() - started).toBeLessThan(5000);
      expect(received).toHaveLength(2); // nothing reached the services' socket
    } finally {
      await net.close();
    }
  });
});

test('the NXDOMAIN answer: ID, opcode and RD kept, the question echoed, an EDNS record dropped; garbage gets nothing', () => {
  const query = dnsPacket.encode({
    type: 'query',
    id: 7,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type: 'AAAA', name: 'old-artwork.example' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as never],
  });
  const answer = dnsPacket.decode(nxdomainAnswer(Buffer.from(query))!);
  expect(answer).toMatchObject({ id: 7, type: 'response', rcode: 'NXDOMAIN', opcode: 'QUERY', questions: [{ type: 'AAAA', name: 'old-artwork.example' }] });
  expect(answer.additionals).toEqual([]);
  expect(nxdomainAnswer(Buffer.from('short'))).toBeUndefined();
});
