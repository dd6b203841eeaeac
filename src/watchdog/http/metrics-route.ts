import type { FastifyPluginAsync } from 'fastify';
import type { WatchdogMetrics } from '../metrics.js';

/**
 * `GET /metrics`: Prometheus's text format, for a central Prometheus to scrape. Control
 * listener only, and open like the status reads: it tells no more than /api/v1/status does.
 */
export const metricsRoute: FastifyPluginAsync<{ metrics: WatchdogMetrics }> = async (app, { metrics }) => {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['status'],
        summary: 'Prometheus metrics: heartbeat age, reverts, revert durations, state, uptime, process',
        response: { 200: { description: 'Prometheus text format 0.0.4', content: { 'text/plain': { schema: { type: 'string' } } } } },
      },
    },
    async (_req, reply) => reply.header('content-type', metrics.contentType).send(await metrics.text()),
  );
};
