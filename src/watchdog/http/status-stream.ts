import type { FastifyPluginAsync } from 'fastify';
import type { ServerResponse } from 'node:http';
import type { LiveEvent, WatchdogPort } from './port.js';

const LIVE_EVENTS: readonly LiveEvent[] = ['state', 'heartbeat', 'revert', 'recovered'];
/** After these the revert history changed too (a new record, or one that recovered). */
const HISTORY_EVENTS: ReadonlySet<LiveEvent> = new Set(['revert', 'recovered']);
/** The heartbeat age changes every second: the status is sent at least that often. */
const TICK_MS = 1000;

/**
 * `GET /api/v1/events`: server-sent events for the status page. A `status` event with
 * `watchdog.status()` at once, after every change the watchdog reports and every second; a
 * `reverts` event when the revert history changed (read it from /api/v1/reverts).
 * Each stream removes its listeners and timer when the client goes or the server closes,
 * so a page left open for months (or reloaded thousands of times) leaks nothing.
 */
export const statusStream: FastifyPluginAsync<{ watchdog: WatchdogPort }> = async (app, { watchdog }) => {
  const open = new Set<() => void>();
  // Before the server closes: end every stream, so close() never waits on one.
  app.addHook('preClose', async () => {
    for (const end of [...open]) end();
  });

  app.get(
    '/api/v1/events',
    {
      exposeHeadRoute: false,
      schema: {
        tags: ['status'],
        summary: "Server-sent events: a 'status' event (the status object) at once, on every change and every second",
        response: { 200: { description: 'text/event-stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
      },
    },
    (req, reply) => {
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.write('retry: 2000\n\n');
      const send = coalesced(res, () => `event: status\ndata: ${JSON.stringify(watchdog.status())}\n\n`);
      const history = coalesced(res, () => `event: reverts\ndata: ${JSON.stringify({ reverts: watchdog.reverts?.length ?? 0 })}\n\n`);
      const listeners = new Map(LIVE_EVENTS.map((event) => [event, HISTORY_EVENTS.has(event) ? () => (send(), history()) : send]));
      const timer = setInterval(() => {
        write(res, ': ping\n\n');
        send();
      }, TICK_MS);
      for (const [event, listener] of listeners) watchdog.on?.(event, listener);
      const end = () => {
        if (!open.delete(end)) return;
        clearInterval(timer);
        for (const [event, listener] of listeners) watchdog.off?.(event, listener);
        res.end();
      };
      open.add(end);
      req.raw.on('close', end);
      res.on('close', end);
      res.on('error', end);
      send();
    },
  );
};

/** Several events in one turn of the event loop send one status; a client that doesn't read is skipped, not buffered. */
function coalesced(res: ServerResponse, text: () => string): () => void {
  let queued = false;
  return () => {
    if (queued) return;
    queued = true;
    setImmediate(() => {
      queued = false;
      write(res, text());
    });
  };
}

function write(res: ServerResponse, chunk: string): void {
  if (res.writableEnded || res.destroyed || res.writableNeedDrain) return;
  res.write(chunk);
}
