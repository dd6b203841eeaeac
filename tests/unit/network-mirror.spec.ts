import { test, expect } from '@playwright/test';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PNG } from 'pngjs';
import { readLog, request, scratch, startServices } from './network-helpers.js';

test('a wget --mirror tree is served with the right content types, index.html for directories and wget’s query file names', async () => {
  const root = path.join(scratch(), 'old-artwork.example');
  await mkdir(path.join(root, 'img'), { recursive: true });
  await mkdir(path.join(root, 'gallery'), { recursive: true });
  const png = PNG.sync.write(Object.assign(new PNG({ width: 2, height: 2 }), { data: Buffer.alloc(16, 200) }));
  await writeFile(path.join(root, 'index.html'), '<html><body>home</body></html>');
  await writeFile(path.join(root, 'style.css'), 'body { color: red }');
  await writeFile(path.join(root, 'img', 'logo.png'), png);
  await writeFile(path.join(root, 'gallery', 'index.html'), '<html>gallery</html>');
  await writeFile(path.join(root, 'view.php?id=3'), '<!DOCTYPE html><html>picture 3</html>');
  await writeFile(path.join(root, 'a file.txt'), 'spaced');
  const { services, log } = await startServices({ 'old-artwork.example': { mirror: root } });
  try {
    const get = (p: string) => request(services.httpSocket, 'old-artwork.example', p);
    const home = await get('/');
    expect([home.status, home.headers['content-type'], home.text]).toEqual([200, 'text/html', '<html><body>home</body></html>']);
    const css = await get('/style.css');
    expect([css.status, css.headers['content-type']]).toEqual([200, 'text/css']);
    const image = await get('/img/logo.png');
    expect([image.status, image.headers['content-type'], image.headers['content-length']]).toEqual([200, 'image/png', String(png.length)]);
    expect(image.body.equals(png)).toBe(true);
    expect((await get('/gallery/')).text).toBe('<html>gallery</html>');
    expect((await get('/gallery')).text).toBe('<html>gallery</html>');
    const php = await get('/view.php?id=3');
    expect([php.status, php.headers['content-type'], php.text]).toEqual([200, 'text/html', '<!DOCTYPE html><html>picture 3</html>']);
    expect((await get('/a%20file.txt')).text).toBe('spaced');
    expect((await get('/view.php?id=4')).status).toBe(404);
    expect((await get('/%2e%2e/%2e%2e/etc/passwd')).status).toBe(404);
    expect((await get('/img/missing.png')).status).toBe(404);
  } finally {
    await services.close();
  }
  const entries = await readLog(log);
  expect(entries.filter((e) => e.outcome === 'missing').map((e) => e.url)).toEqual([
    'http://old-artwork.example/view.php?id=4',
    'http://old-artwork.example/%2e%2e/%2e%2e/etc/passwd',
    'http://old-artwork.example/img/missing.png',
  ]);
  expect(entries.find((e) => e.url?.endsWith('/img/logo.png'))).toMatchObject({ service: 'mirror', outcome: 'served', status: 200 });
});
