/**
 * The host's own certificate authority, made once and kept under $XDG_DATA_HOME/demotool/ca
 * (directory 0700, key 0600). Guests that trust its certificate accept the https services'
 * certificates, which it signs on demand. RSA 2048 with SHA-256: what Windows XP SP3, old Java and NSS accept.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import forge from 'node-forge';
import { xdgData } from 'xdg-basedir';
import { NetworkError } from './errors.js';

/**
 * Certificates are valid from 2000 to 2049: an artwork's guest may run with its clock set to the
 * year of the work, and a certificate "not yet valid" there would break it. The CA never leaves the host.
 */
const NOT_BEFORE = new Date('2000-01-01T00:00:00Z');
const NOT_AFTER = new Date('2049-12-31T23:59:59Z');
const CA_CERT = 'ca.pem';
const CA_KEY = 'ca-key.pem';

export class LocalCa {
  private readonly issued = new Map<string, { key: string; cert: string }>();
  /** One key for every server certificate: signing is fast, key generation is not. */
  private readonly serverKey = generateKeyPairSync('rsa', { modulusLength: 2048 });

  private constructor(
    readonly certPath: string,
    readonly certPem: string,
    private readonly caCert: forge.pki.Certificate,
    private readonly caKey: forge.pki.rsa.PrivateKey,
  ) {}

  /** The CA in `dir` (default $XDG_DATA_HOME/demotool/ca), made there first if it isn't yet. */
  static async load(dir: string = defaultCaDir()): Promise<LocalCa> {
    const certPath = path.join(dir, CA_CERT);
    let pems = await readPems(dir);
    if (!pems) {
      await create(dir);
      pems = await readPems(dir);
    }
    if (!pems) throw new NetworkError('ENETCA', `the local CA in ${dir} could not be made`, `remove ${dir} and try again`);
    try {
      return new LocalCa(certPath, pems.cert, forge.pki.certificateFromPem(pems.cert), forge.pki.privateKeyFromPem(pems.key) as forge.pki.rsa.PrivateKey);
    } catch (e) {
      throw new NetworkError(
        'ENETCA',
        `the local CA in ${dir} is damaged: ${(e as Error).message}`,
        `remove ${dir} to make a new one (then install its certificate in the guests again)`,
        e,
      );
    }
  }

  /** A key and certificate (PEM) for `hostname`, signed by this CA; made once per name. */
  certificateFor(hostname: string): { key: string; cert: string } {
    return this.certificateForNames([hostname.toLowerCase()]);
  }

  /** One certificate naming all of `names` (wildcards too), for clients that send no SNI (Windows XP's). */
  certificateForNames(names: string[]): { key: string; cert: string } {
    const id = names.join(',');
    let issued = this.issued.get(id);
    if (!issued) {
      issued = { key: this.serverKey.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string, cert: this.sign(names) };
      this.issued.set(id, issued);
    }
    return issued;
  }

  private sign(names: string[]): string {
    const cert = forge.pki.createCertificate();
    cert.publicKey = forge.pki.publicKeyFromPem(this.serverKey.publicKey.export({ type: 'spki', format: 'pem' }) as string);
    cert.serialNumber = serial();
    cert.validity.notBefore = NOT_BEFORE;
    cert.validity.notAfter = NOT_AFTER;
    cert.setSubject([{ name: 'commonName', value: names[0]! }]);
    cert.setIssuer(this.caCert.subject.attributes);
    cert.setExtensions([
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', critical: true, digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
      { name: 'authorityKeyIdentifier', keyIdentifier: this.caCert.generateSubjectKeyIdentifier().getBytes() },
    ]);
    cert.sign(this.caKey, forge.md.sha256.create());
    return forge.pki.certificateToPem(cert);
  }
}

export function defaultCaDir(): string {
  return path.join(xdgData ?? path.join(os.homedir(), '.local', 'share'), 'demotool', 'ca');
}

async function readPems(dir: string): Promise<{ cert: string; key: string } | undefined> {
  try {
    return { cert: await readFile(path.join(dir, CA_CERT), 'utf8'), key: await readFile(path.join(dir, CA_KEY), 'utf8') };
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new NetworkError(
      'ENETCA',
      `the local CA in ${dir} can't be read: ${(e as Error).message}`,
      'run as the user who made it, or remove the directory',
      e,
    );
  }
}

/** Written in a new directory beside `dir`, then renamed into place: two processes never see half a CA. */
async function create(dir: string): Promise<void> {
  await mkdir(path.dirname(dir), { recursive: true });
  const temp = await mkdtemp(path.join(path.dirname(dir), '.ca-'));
  try {
    await chmod(temp, 0o700);
    const { cert, key } = makeCa();
    await writeFile(path.join(temp, CA_KEY), key, { mode: 0o600 });
    await writeFile(path.join(temp, CA_CERT), cert, { mode: 0o644 });
    await rename(temp, dir).catch((e: NodeJS.ErrnoException) => {
      // Another process made it first: use theirs.
      if (e.code !== 'ENOTEMPTY' && e.code !== 'EEXIST') throw e;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

function makeCa(): { cert: string; key: string } {
  const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = pair.privateKey.export({ type: 'pkcs1', format: 'pem' }) as string;
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pair.publicKey.export({ type: 'spki', format: 'pem' }) as string);
  cert.serialNumber = serial();
  cert.validity.notBefore = NOT_BEFORE;
  cert.validity.notAfter = NOT_AFTER;
  const subject = [
    { name: 'commonName', value: `demotool local CA (${os.hostname()})` },
    { name: 'organizationName', value: 'demotool' },
  ];
  cert.setSubject(subject);
  cert.setIssuer(subject);
  cert.setExtensions([
    { name: 'basicConstraints', critical: true, cA: true, pathLenConstraint: 0 },
    { name: 'keyUsage', critical: true, keyCertSign: true, cRLSign: true },
    { name: 'subjectKeyIdentifier' },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(key) as forge.pki.rsa.PrivateKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key };
}

/** A positive random serial (the top bit clear), so no two certificates share one. */
function serial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('hex');
}
