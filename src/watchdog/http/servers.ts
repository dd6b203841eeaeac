import { timingSafeEqual } from 'node:crypto';
import { chmod, rm } from 'node:fs/promises';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { DemotoolError } from '../../errors.js';
import type { Logger } from '../../log.js';
import { WatchdogError } from '../errors.js';
import { controlRoutes } from './control-routes.js';
import { isCrossSite, refuseCrossSite } from './cross-site.js';
import { guestRestartRoute, guestRoutes } from './guest-routes.js';
import type { WatchdogMetrics } from '../metrics.js';
import { metricsRoute } from './metrics-route.js';
import type { WatchdogPort } from './port.js';
import { statusPageRoutes } from './status-page-routes.js';
import { statusStream } from './status-stream.js';

/** Pending connections the guest socket holds (the kernel caps it at net.core.somaxconn). */
const GUEST_BACKLOG = 4096;

/** Small bodies only: the API takes a reason string at most. */
const BODY_LIMIT = 16 * 1024;

/** What anyone who reaches the control listener may read: it tells no more than the status does. */
const OPEN_READS = [
  '/',
  '/api/v1/status',
  '/api/v1/heartbeat/status',
  '/api/v1/snapshots',
  '/api/v1/events',
  '/api/v1/screen.png',
  '/api/v1/reverts',
  '/metrics',
];

/** Reads without control rights: status, the status page, heartbeats and the API's own documentation. */
function isOpen(req: FastifyRequest): boolean {
  const path = req.url.split('?')[0] ?? '';
  if (path === '/api/v1/heartbeat') return true;
  if (path.startsWith('/docs') || path === '/openapi.json') return req.method === 'GET';
  return req.method === 'GET' && OPEN_READS.includes(path);
}

function tokenMatches(header: string | undefined, token: string): boolean {
  const given = Buffer.from(/^Bearer\s+(.+)$/i.exec(header ?? '')?.[1] ?? '');
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

/** Every failure becomes a 4xx/5xx with the exhibition controller's `detail` field, plus our code and hint. */
function replyToError(log: Logger) {
  return (error: FastifyError | Error, req: FastifyRequest, reply: FastifyReply) => {
    const e = error as FastifyError & { code?: string; hint?: string };
    if (e.validation) return reply.code(400).send({ detail: `bad request: ${e.message}`, code: 'EBADREQUEST' });
    if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) return reply.code(e.statusCode).send({ detail: e.message, code: e.code ?? 'EBADREQUEST' });
    if (error instanceof WatchdogError && ['ENOSNAPSHOT', 'ESNAPSHOTNAME', 'ESNAPSHOTINUSE'].includes(error.code))
      return reply
        .code(error.code === 'ENOSNAPSHOT' ? 404 : error.code === 'ESNAPSHOTINUSE' ? 409 : 400)
        .send({ detail: error.message.split('\n')[0], code: error.code, hint: error.hint });
    if (error instanceof DemotoolError && error.code === 'EUSAGE')
      return reply.code(400).send({ detail: error.message.split('\n')[0], code: error.code, hint: error.hint });
    log.error('request failed', { method: req.method, url: req.url, error: error.message });
    const code = error instanceof DemotoolError ? error.code : 'EINTERNAL';
    return reply.code(500).send({ detail: error.message.split('\n')[0], code });
  };
}

function base(log: Logger): FastifyInstance {
  const app = Fastify({ logger: false, bodyLimit: BODY_LIMIT, return503OnClosing: true, forceCloseConnections: true });
  // Old clients POST with no body, or with a form body: both are taken.
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    const text = String(body).trim();
    if (!text) return done(null, undefined);
    try {
      done(null, JSON.parse(text));
    } catch {
      done(Object.assign(new Error('the body is not valid JSON'), { statusCode: 400, code: 'EBADJSON' }), undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    const form = Object.fromEntries(new URLSearchParams(String(body)));
    if (form.idle_duration !== undefined) (form as Record<string, unknown>).idle_duration = Number(form.idle_duration);
    done(null, Object.keys(form).length ? form : undefined);
  });
  // A missing body would fail a route's body schema ("body must be object"): it is an empty one.
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined && req.method === 'POST') req.body = {};
  });
  app.setErrorHandler(replyToError(log));
  app.setNotFoundHandler((req, reply) => reply.code(404).send({ detail: `no route ${req.method} ${req.url.split('?')[0]}`, code: 'ENOROUTE' }));
  app.addHook('onResponse', async (req, reply) => log.debug('request', { method: req.method, url: req.url, status: reply.statusCode }));
  return app;
}

export interface ApiServersOptions {
  watchdog: WatchdogPort;
  /** The guest listener's unix socket (the guest network relays to it). */
  guestSocket?: string;
  control: { host: string; port: number; token?: string } | false;
  /** Served as `GET /metrics` on the control listener (never the guest's). */
  metrics?: WatchdogMetrics;
  log: Logger;
}

/**
 * Two listeners. The guest's: only what guest scripts need, on a unix socket that nothing but
 * the VM's own network reaches. The control one: every route, on the host (loopback unless a
 * token is set), with a bearer token for actions when one is configured, and an OpenAPI document.
 */
export class ApiServers {
  private constructor(
    private readonly guest: FastifyInstance | undefined,
    private readonly control: FastifyInstance | undefined,
    readonly controlUrl: string | undefined,
    private readonly guestSocket: string | undefined,
  ) {}

  static async start(o: ApiServersOptions): Promise<ApiServers> {
    let guest: FastifyInstance | undefined;
    let control: FastifyInstance | undefined;
    try {
      if (o.guestSocket) {
        guest = base(o.log.child('guest'));
        await guest.register(guestRoutes, { watchdog: o.watchdog });
        await guest.register(guestRestartRoute, { watchdog: o.watchdog });
        await rm(o.guestSocket, { force: true });
        // A full unix-socket backlog refuses connects at once (EAGAIN; TCP would retry): Node's 511 lost half of 1,000 beats sent together.
        await guest.listen({ path: o.guestSocket, backlog: GUEST_BACKLOG });
        await chmod(o.guestSocket, 0o600);
      }
      let url: string | undefined;
      if (o.control) {
        control = await controlServer(o.watchdog, o.control.token, o.metrics, o.log.child('control'));
        await control.listen({ host: o.control.host, port: o.control.port });
        const address = control.server.address();
        const port = typeof address === 'object' && address ? address.port : o.control.port;
        const host = o.control.host.includes(':') ? `[${o.control.host}]` : o.control.host;
        url = `http://${host}:${port}`;
      }
      return new ApiServers(guest, control, url, o.guestSocket);
    } catch (e) {
      await guest?.close().catch(() => undefined);
      await control?.close().catch(() => undefined);
      throw new WatchdogError(
        'EAPILISTEN',
        `the watchdog API could not listen: ${(e as Error).message}`,
        'is the port in use? pass api: { port: 0 } for a free one',
        e,
      );
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.guest?.close(), this.control?.close()]);
    if (this.guestSocket) await rm(this.guestSocket, { force: true });
  }
}

async function controlServer(watchdog: WatchdogPort, token: string | undefined, metrics: WatchdogMetrics | undefined, log: Logger): Promise<FastifyInstance> {
  const app = base(log);
  await app.register(swagger, {
    openapi: {
      info: { title: 'demotool watchdog API', version: '1', description: 'Compatible with the exhibition VM controller API v1' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  app.addHook('onRequest', async (req, reply) => {
    if (!isOpen(req) && isCrossSite(req)) await refuseCrossSite(req, reply);
  });
  if (token)
    app.addHook('onRequest', async (req, reply) => {
      if (isOpen(req) || tokenMatches(req.headers.authorization, token)) return;
      await reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send({ detail: 'this action needs the control token (Authorization: Bearer …)', code: 'EUNAUTHORIZED' });
    });
  await app.register(guestRoutes, { watchdog });
  await app.register(controlRoutes, { watchdog });
  if (metrics) await app.register(metricsRoute, { metrics });
  await app.register(statusPageRoutes, { watchdog });
  await app.register(statusStream, { watchdog });
  return app;
}
