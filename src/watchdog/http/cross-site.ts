import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A web page from elsewhere, open in a browser on a machine that reaches the control listener,
 * could otherwise make that browser call an action (an <img> on /api/v1/vm/stop needs no
 * token when none is set). Browsers say where a request comes from (Sec-Fetch-Site, Origin);
 * actions are refused unless they come from the status page itself or from a non-browser client.
 */
export function isCrossSite(req: FastifyRequest): boolean {
  const site = req.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = req.headers.origin;
  if (!origin || origin === 'null') return origin === 'null';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

export async function refuseCrossSite(req: FastifyRequest, reply: FastifyReply): Promise<void> {
  await reply.code(403).send({
    detail: 'actions are not taken from another web site: use the status page on this listener, or a client that is not a browser',
    code: 'ECROSSSITE',
  });
}
