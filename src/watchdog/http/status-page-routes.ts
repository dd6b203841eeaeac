import type { FastifyPluginAsync } from 'fastify';
import type { RevertRecord } from '../triggers.js';
import type { WatchdogPort } from './port.js';
import * as S from './schemas.js';
import { STATUS_PAGE } from './status-page.js';

/** The history the page shows: recent enough to explain tonight's trouble, small enough to send every few seconds. */
const HISTORY = 100;

/**
 * The technicians' status page at `/` and the reads behind it: the guest's screen and the
 * revert history. All open, like /api/v1/status; the page's buttons call the token-guarded routes.
 */
export const statusPageRoutes: FastifyPluginAsync<{ watchdog: WatchdogPort }> = async (app, { watchdog }) => {
  app.get('/', { schema: { hide: true } }, async (_req, reply) =>
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store').send(STATUS_PAGE),
  );

  app.get(
    '/api/v1/reverts',
    { schema: { tags: ['status'], summary: 'The revert history, newest first (the last 100)', response: { 200: S.revertList } } },
    async () => {
      const all = watchdog.reverts ?? [];
      return { vm_name: watchdog.vm.name, total: all.length, reverts: all.slice(-HISTORY).reverse().map(withoutScreens) };
    },
  );

  // One screenshot at a time, however many pages ask: the others get the same picture.
  let shooting: Promise<Buffer> | undefined;
  app.get(
    '/api/v1/screen.png',
    {
      schema: {
        tags: ['status'],
        summary: "The guest's screen now (PNG)",
        response: {
          200: { description: 'PNG', content: { 'image/png': { schema: { type: 'string', format: 'binary' } } } },
          404: S.errorReply,
          503: S.errorReply,
        },
      },
    },
    async (_req, reply) => {
      const screenshot = watchdog.vm.screenshot?.bind(watchdog.vm);
      if (!screenshot) return reply.code(404).send({ detail: `VM '${watchdog.vm.name}' has no screen to show`, code: 'ENOSCREEN' });
      shooting ??= screenshot().finally(() => (shooting = undefined));
      try {
        const png = await shooting;
        return reply.header('content-type', 'image/png').header('cache-control', 'no-store').send(png);
      } catch (e) {
        // The screen is away during a restart: the page keeps its last picture.
        return reply.code(503).send({ detail: `the screen can't be read now: ${(e as Error).message.split('\n')[0]}`, code: 'ESCREEN' });
      }
    },
  );
};

/** A record as JSON: the screens (PNG buffers) stay in memory, the rest in the API's snake_case. */
function withoutScreens(r: RevertRecord) {
  return {
    reason: r.reason,
    detail: r.detail,
    method: r.method,
    snapshot: r.snapshot,
    started_at: r.startedAt,
    duration_ms: r.durationMs,
    ok: r.ok,
    error: r.error,
    recovered_at: r.recoveredAt,
  };
}
