/** Mock services: canned routes from the config, or a module that answers each request. */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { NetworkError } from './errors.js';
import type { Answer, GuestRequest, Service } from './service.js';
import type { MockRoute } from './service-map.js';

/** What a mock module's default export is given. */
export interface MockRequest {
  method: string;
  /** The absolute URL the guest asked for. */
  url: string;
  /** Path and query. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** What a mock module's default export returns (or a promise of it); undefined means "not here" (404, logged missing). */
export interface MockResponse {
  status?: number;
  headers?: Record<string, string>;
  body?: string | Buffer | object;
  delayMs?: number;
}

export type MockHandler = (request: MockRequest) => MockResponse | undefined | Promise<MockResponse | undefined>;

export async function mockService(mock: MockRoute[] | string): Promise<Service> {
  const handler = typeof mock === 'string' ? await loadModule(mock) : routesHandler(mock);
  return {
    kind: 'mock',
    async answer(request: GuestRequest): Promise<Answer | undefined> {
      const response = await handler({
        method: request.method,
        url: request.url.href,
        path: request.url.pathname + request.url.search,
        headers: request.headers,
        body: request.body,
      });
      return response && toAnswer(response);
    },
    close: async () => {},
  };
}

function routesHandler(routes: MockRoute[]): MockHandler {
  const compiled = routes.map((route) => ({ route, path: pathPattern(route.path) }));
  return (request) => {
    const pathOnly = request.path.split('?')[0]!;
    const hit = compiled.find(
      ({ route, path }) => (!route.method || route.method.toUpperCase() === request.method) && path.test(route.path.includes('?') ? request.path : pathOnly),
    );
    return hit && { status: hit.route.status, headers: hit.route.headers, body: hit.route.body, delayMs: hit.route.delayMs };
  };
}

/** `/api/*` → a regex where `*` stands for any characters (slashes too). */
function pathPattern(pattern: string): RegExp {
  return new RegExp('^' + pattern.split('*').map(escapeRegex).join('.*') + '$');
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function toAnswer(response: MockResponse): Answer {
  const headers = Object.entries(response.headers ?? {});
  const has = (name: string) => headers.some(([k]) => k.toLowerCase() === name);
  let body: Buffer;
  if (response.body === undefined) body = Buffer.alloc(0);
  else if (Buffer.isBuffer(response.body)) body = response.body;
  else if (typeof response.body === 'string') body = Buffer.from(response.body);
  else {
    body = Buffer.from(JSON.stringify(response.body));
    if (!has('content-type')) headers.push(['Content-Type', 'application/json']);
  }
  if (!has('content-type') && body.length) headers.push(['Content-Type', 'text/plain; charset=utf-8']);
  return { status: response.status ?? 200, headers, body, delayMs: response.delayMs };
}

async function loadModule(file: string): Promise<MockHandler> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path.resolve(file)).href)) as { default?: unknown };
  } catch (e) {
    const hint = /\.m?ts$/.test(file)
      ? 'a .ts mock module needs a TypeScript loader: run under tsx (`node --import tsx ...`, or Playwright Test, which loads TypeScript), or compile it to .js'
      : 'check that the module loads with `node ' + file + '`';
    throw new NetworkError('ENETMOCK', `mock module ${file} could not be loaded: ${(e as Error).message}`, hint, e);
  }
  if (typeof module.default !== 'function') {
    throw new NetworkError(
      'ENETMOCK',
      `mock module ${file} has no default export function`,
      'export default (req) => ({ status: 200, headers: {...}, body: ... })',
    );
  }
  return module.default as MockHandler;
}
