import type { FastifyPluginAsync, FastifyReply, RouteHandlerMethod, RouteShorthandOptions } from 'fastify';
import type { WatchdogPort } from './port.js';
import * as S from './schemas.js';

/**
 * What guest scripts call, at the paths and in the shapes of the exhibition controller, so its
 * AutoIt scripts work unchanged. GET and POST both work, as the exhibition controller's scripts expect (AutoIt's InetGet is a GET).
 * `vm/restart` from a guest is a rate-limited revert request, not an operator's restart.
 */
export const guestRoutes: FastifyPluginAsync<{ watchdog: WatchdogPort; via?: 'http' }> = async (app, { watchdog }) => {
  const both = (url: string, options: RouteShorthandOptions, handler: RouteHandlerMethod) => {
    app.get(url, options, handler);
    app.post(url, options, handler);
  };

  both('/api/v1/heartbeat', { schema: { tags: ['guest'], summary: 'The guest is alive', response: { 200: S.message } } }, async () => {
    watchdog.receive({ kind: 'heartbeat' }, 'http');
    return { message: 'Heartbeat received', details: watchdog.heartbeatStatus() };
  });

  const revertRequest = async (input: { reason?: string; severity?: string }, reply: FastifyReply) => {
    const answer = watchdog.receive({ kind: 'revert-request', reason: input.reason, severity: input.severity }, 'http');
    if (!answer.accepted) return reply.code(429).send({ detail: `revert request refused: ${answer.why}`, code: 'EREFUSED' });
    return { status: 'accepted', message: answer.why ?? 'Revert queued', will_revert_in_seconds: 0 };
  };
  app.get<{ Querystring: { reason?: string; severity?: string } }>(
    '/api/v1/revert/request',
    { schema: { tags: ['guest'], summary: 'The guest asks to be reverted', querystring: S.revertRequest, response: { 200: S.accepted, 429: S.errorReply } } },
    (req, reply) => revertRequest(req.query, reply),
  );
  app.post<{ Body: { reason?: string; severity?: string } | undefined; Querystring: { reason?: string; severity?: string } }>(
    '/api/v1/revert/request',
    {
      schema: {
        tags: ['guest'],
        summary: 'The guest asks to be reverted',
        body: S.revertRequest,
        querystring: S.revertRequest,
        response: { 200: S.accepted, 429: S.errorReply },
      },
    },
    (req, reply) => revertRequest({ ...req.query, ...req.body }, reply),
  );

  const idleReset = (input: { idle_duration?: number }) => {
    watchdog.receive({ kind: 'idle-reset', idleSeconds: input.idle_duration }, 'http');
    return { status: 'accepted', message: 'Idle reset triggered' };
  };
  app.get<{ Querystring: { idle_duration?: number } }>(
    '/api/v1/idle/reset',
    { schema: { tags: ['guest'], summary: 'User activity was seen idle_duration seconds ago', querystring: S.idleReset, response: { 200: S.accepted } } },
    async (req) => idleReset(req.query),
  );
  app.post<{ Body: { idle_duration?: number } | undefined; Querystring: { idle_duration?: number } }>(
    '/api/v1/idle/reset',
    {
      schema: {
        tags: ['guest'],
        summary: 'User activity was seen idle_duration seconds ago',
        body: S.idleReset,
        querystring: S.idleReset,
        response: { 200: S.accepted },
      },
    },
    async (req) => idleReset({ ...req.query, ...req.body }),
  );
};

/** The guest's `vm/restart` (how the exhibition controller's guest scripts ask for a revert). */
export const guestRestartRoute: FastifyPluginAsync<{ watchdog: WatchdogPort }> = async (app, { watchdog }) => {
  const handler = async (_req: unknown, reply: FastifyReply) => {
    const answer = watchdog.receive({ kind: 'revert-request', reason: 'vm/restart called by the guest' }, 'http');
    if (!answer.accepted) return reply.code(429).send({ detail: `restart refused: ${answer.why}`, code: 'EREFUSED' });
    return { message: `VM '${watchdog.vm.name}' restart requested` };
  };
  const schema = { tags: ['guest'], summary: 'The guest asks for a restart (a revert request)', response: { 200: S.message, 429: S.errorReply } };
  app.get('/api/v1/vm/restart', { schema }, handler);
  app.post('/api/v1/vm/restart', { schema }, handler);
};
