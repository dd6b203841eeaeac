/**
 * A guest's network services: its resolver and its web, served on three unix sockets that the
 * guest's network namespace relays to (DNS, HTTP, HTTPS). Nothing here opens a TCP port.
 */
import { mkdir, rm } from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { createLogger, type Logger } from '../log.js';
import { dnsServer } from './dns.js';
import { requestHandler } from './dispatch.js';
import { NetworkError } from './errors.js';
import { LocalCa } from './local-ca.js';
import { RequestLog } from './request-log.js';
import type { Service } from './service.js';
import { createService } from './services.js';
import { serviceKeyFor, type ServiceMap } from './service-map.js';

export interface NetworkServicesOptions {
  /** Checked by parseServiceMap. */
  services: ServiceMap;
  /** Where the three sockets are made (created if missing). Keep the path short: a unix socket path has at most 107 bytes. */
  socketDir: string;
  /** The IPv4 address the guest's DNS answers point to: its gateway, which its relays forward to us. */
  address: string;
  /** The request log, a JSON-lines file (appended to). */
  requestLog: string;
  log?: Logger;
  /** The CA that signs the https certificates; LocalCa.load() when absent. */
  ca?: LocalCa;
}

export class NetworkServices {
  private closed = false;

  private constructor(
    readonly httpSocket: string,
    readonly httpsSocket: string,
    readonly dnsSocket: string,
    private readonly servers: net.Server[],
    private readonly services: Map<string, Service>,
    private readonly requestLog: RequestLog,
  ) {}

  static async start(options: NetworkServicesOptions): Promise<NetworkServices> {
    const logger = options.log ?? createLogger('network');
    const services = new Map<string, Service>();
    const requestLog = await RequestLog.open(options.requestLog);
    const servers: net.Server[] = [];
    const sockets = {
      http: path.join(options.socketDir, 'http.sock'),
      https: path.join(options.socketDir, 'https.sock'),
      dns: path.join(options.socketDir, 'dns.sock'),
    };
    try {
      for (const [host, spec] of Object.entries(options.services)) services.set(host, await createService(spec, host));
      const ca = options.ca ?? (await LocalCa.load());
      await mkdir(options.socketDir, { recursive: true });
      servers.push(await listen(dnsServer(options.services, options.address, requestLog), sockets.dns));
      servers.push(await listen(http.createServer(requestHandler('http', options.services, services, requestLog, logger)), sockets.http));
      const tlsServer = httpsServer(options.services, ca, requestLog);
      tlsServer.on('request', requestHandler('https', options.services, services, requestLog, logger));
      servers.push(await listen(tlsServer, sockets.https));
    } catch (e) {
      await Promise.allSettled([...servers.map(closeServer), ...[...services.values()].map((s) => s.close()), requestLog.close()]);
      await Promise.allSettled(Object.values(sockets).map((s) => rm(s, { force: true })));
      throw e;
    }
    logger.info('network services started', { socketDir: options.socketDir, hosts: Object.keys(options.services).join(',') });
    return new NetworkServices(sockets.http, sockets.https, sockets.dns, servers, services, requestLog);
  }

  /** Stops the servers, removes the sockets, and flushes the request log and any WARC being recorded. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled(this.servers.map(closeServer));
    await Promise.allSettled([...this.services.values()].map((s) => s.close()));
    await this.requestLog.close();
    await Promise.all([this.httpSocket, this.httpsSocket, this.dnsSocket].map((s) => rm(s, { force: true })));
  }
}

/**
 * TLS: SNI picks the certificate. A name that is not configured fails the handshake (logged refused).
 * A client that sends no SNI (Windows XP's) gets one certificate naming every configured host.
 */
function httpsServer(map: ServiceMap, ca: LocalCa, log: RequestLog): https.Server {
  const all = ca.certificateForNames(Object.keys(map).length ? Object.keys(map) : ['no-services.invalid']);
  const server = https.createServer({
    key: all.key,
    cert: all.cert,
    SNICallback: (servername, cb) => {
      const name = servername.toLowerCase();
      if (serviceKeyFor(map, name) === undefined) {
        log.write({ kind: 'https', host: name, outcome: 'refused', detail: 'TLS handshake for a name that is not configured' });
        cb(new NetworkError('ENETSNI', `${name} is not configured`));
        return;
      }
      let context: tls.SecureContext;
      try {
        context = tls.createSecureContext(ca.certificateFor(name));
      } catch (e) {
        cb(e as Error);
        return;
      }
      cb(null, context);
    },
  });
  return server;
}

async function listen(server: net.Server, socket: string): Promise<net.Server> {
  await rm(socket, { force: true }); // a socket left by a killed run
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      reject(
        new NetworkError('ENETSOCKET', `can't listen on ${socket}: ${e.message}`, 'the socket directory must be writable and its path under 108 bytes', e),
      ),
    );
    server.listen(socket, () => resolve());
  });
  return server;
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    (server as http.Server).closeAllConnections?.();
  });
}
