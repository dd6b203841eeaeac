import { test, expect } from '@playwright/test';
import { X509Certificate } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import tls from 'node:tls';
import { LocalCa } from '../../src/network/index.js';
import { readLog, request, scratch, startServices, testCa } from './network-helpers.js';

/** A TLS handshake through the unix socket; resolves with the peer's certificate or rejects with the handshake's error. */
function handshake(socket: string, options: { servername?: string; ca?: string }): Promise<tls.PeerCertificate> {
  return new Promise((resolve, reject) => {
    const c = tls.connect(
      { path: socket, servername: options.servername, ca: options.ca, rejectUnauthorized: true, checkServerIdentity: tls.checkServerIdentity },
      () => {
        const cert = c.getPeerCertificate();
        c.end();
        resolve(cert);
      },
    );
    c.on('error', reject);
  });
}

test('https: the local CA’s certificate is accepted for a configured name and rejected without the CA; an unknown SNI fails the handshake', async () => {
  const ca = await testCa();
  const { services, log } = await startServices({
    'secure.example': { mock: [{ path: '/', body: 'tls ok' }] },
    '*.cdn.example': { mock: [{ path: '/*', body: 'cdn' }] },
  });
  try {
    const cert = await handshake(services.httpsSocket, { servername: 'secure.example', ca: ca.certPem });
    expect(cert.subject.CN).toBe('secure.example');
    expect(cert.subjectaltname).toBe('DNS:secure.example');
    const wild = await handshake(services.httpsSocket, { servername: 'img.cdn.example', ca: ca.certPem });
    expect(wild.subjectaltname).toBe('DNS:img.cdn.example');

    const page = await request(services.httpsSocket, 'secure.example', '/', { ca: ca.certPem });
    expect([page.status, page.text]).toEqual([200, 'tls ok']);

    await expect(handshake(services.httpsSocket, { servername: 'secure.example' })).rejects.toThrow(/self[- ]signed|unable to (get|verify)/i);
    await expect(handshake(services.httpsSocket, { servername: 'www.google.com', ca: ca.certPem })).rejects.toThrow(
      /disconnected before secure TLS connection|alert|ECONNRESET/i,
    );

    // A client without SNI (Windows XP's) gets one certificate naming every configured host.
    const all = await new Promise<tls.PeerCertificate>((resolve, reject) => {
      const c = tls.connect({ path: services.httpsSocket, ca: ca.certPem, checkServerIdentity: () => undefined }, () => {
        resolve(c.getPeerCertificate());
        c.end();
      });
      c.on('error', reject);
    });
    expect(all.subjectaltname).toBe('DNS:secure.example, DNS:*.cdn.example');
  } finally {
    await services.close();
  }
  const entries = await readLog(log);
  expect(entries.find((e) => e.host === 'www.google.com')).toMatchObject({ kind: 'https', outcome: 'refused' });
  expect(entries.find((e) => e.kind === 'https' && e.host === 'secure.example')).toMatchObject({
    outcome: 'served',
    status: 200,
    url: 'https://secure.example/',
  });
});

test('LocalCa is made once (key 0600, dir 0700), reused after, and signs certificates that chain to it', async () => {
  const dir = path.join(scratch(), 'demotool', 'ca');
  const [first, second] = await Promise.all([LocalCa.load(dir), LocalCa.load(dir)]);
  expect(second.certPem).toBe(first.certPem);
  const again = await LocalCa.load(dir);
  expect(again.certPem).toBe(first.certPem);
  expect(first.certPath).toBe(path.join(dir, 'ca.pem'));
  expect((await stat(dir)).mode & 0o777).toBe(0o700);
  expect((await stat(path.join(dir, 'ca-key.pem'))).mode & 0o777).toBe(0o600);

  const root = new X509Certificate(first.certPem);
  expect(root.ca).toBe(true);
  const leaf = new X509Certificate(first.certificateFor('old-artwork.example').cert);
  expect(leaf.verify(root.publicKey)).toBe(true);
  expect(leaf.checkIssued(root)).toBe(true);
  expect(leaf.ca).toBe(false);
  expect(leaf.checkHost('old-artwork.example')).toBe('old-artwork.example');
  // Valid for guests whose clocks are set to the artwork's years.
  expect(new Date(leaf.validFrom).getUTCFullYear()).toBeLessThanOrEqual(2000);
  expect(first.certificateFor('old-artwork.example')).toBe(first.certificateFor('old-artwork.example'));
});
