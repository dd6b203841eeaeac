/**
 * A `wget --mirror` tree served as static files: the URL path is the file's path under the
 * directory, a directory answers with its index.html, and a URL with a query finds the file wget
 * named after it (`page?x=1`, or `page@x=1` as wget names it for Windows).
 */
import { open, stat } from 'node:fs/promises';
import path from 'node:path';
// The standard types only: the full list calls a saved .php page application/x-httpd-php.
import mime from 'mime/lite';
import type { Answer, GuestRequest, Service } from './service.js';

export function mirrorService(root: string): Service {
  const base = path.resolve(root);
  return {
    kind: 'mirror',
    async answer(request: GuestRequest): Promise<Answer | undefined> {
      if (request.method !== 'GET' && request.method !== 'HEAD') return undefined;
      const file = await findFile(base, request.url);
      if (!file) return undefined;
      return { status: 200, headers: [['Content-Type', await contentType(file.path)]], body: { file: file.path, size: file.size } };
    },
    close: async () => {},
  };
}

async function findFile(base: string, url: URL): Promise<{ path: string; size: number } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(url.pathname);
  } catch {
    return undefined;
  }
  const target = path.join(base, decoded);
  if (target !== base && !target.startsWith(base + path.sep)) return undefined; // never outside the mirror
  const query = url.search.slice(1);
  const candidates = query
    ? [`${target}?${query}`, `${target}@${query}`, `${target}?${query}.html`]
    : [target, path.join(target, 'index.html'), `${target}.html`];
  for (const candidate of candidates) {
    const found = await stat(candidate).catch(() => undefined);
    if (found?.isFile()) return { path: candidate, size: found.size };
  }
  return undefined;
}

/** By extension; a file without a known one (wget's `page?x=1`) is HTML when it looks like it. */
async function contentType(file: string): Promise<string> {
  const known = mime.getType(file) ?? mime.getType(path.basename(file).replace(/[?@].*$/, ''));
  if (known) return known;
  const head = await readHead(file);
  return /^\s*(<!doctype html|<html|<head|<body)/i.test(head) ? 'text/html' : 'application/octet-stream';
}

async function readHead(file: string): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    return buffer.subarray(0, bytesRead).toString('latin1');
  } finally {
    await handle.close();
  }
}
