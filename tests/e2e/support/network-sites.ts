/**
 * Small sites for the network services' tests and demo: a WARC capture of an old artwork's
 * page and its image (written with warcio, as Webrecorder's tools write them) and a
 * `wget --mirror`-like tree.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { WARCRecord, WARCSerializer } from 'warcio';

export const ARCHIVED_TEXT = 'The archived body of an old artwork';
export const ARCHIVED_HEADING = 'Garden of Forking Paths';

/** The archived page: a big heading OCR can read, a line of text and an image. */
export function archivedPage(): string {
  return `<html><head><title>Old artwork</title></head>
<body bgcolor="#fff8e0">
<h1><font size="7" color="#602000">${ARCHIVED_HEADING}</font></h1>
<p>${ARCHIVED_TEXT}, served from a WARC in 1998 style.</p>
<p><img src="/logo.png" width="240" height="120" alt="logo"></p>
</body></html>
`;
}

/** A 240x120 picture with three bands of colour (a blank or broken image shows in a screenshot). */
export async function logoPng(): Promise<Buffer> {
  const band = (color: string) => ({ input: { create: { width: 80, height: 120, channels: 3 as const, background: color } } });
  return sharp({ create: { width: 240, height: 120, channels: 3, background: '#000000' } })
    .composite([
      { ...band('#d03030'), left: 0, top: 0 },
      { ...band('#30a030'), left: 80, top: 0 },
      { ...band('#3030d0'), left: 160, top: 0 },
    ])
    .png()
    .toBuffer();
}

async function response(url: string, contentType: string, body: Uint8Array): Promise<Uint8Array> {
  const record = WARCRecord.create(
    {
      url,
      date: '1998-06-01T12:00:00Z',
      type: 'response',
      warcVersion: 'WARC/1.1',
      statusline: 'HTTP/1.1 200 OK',
      httpHeaders: { 'Content-Type': contentType, 'Content-Length': String(body.length) },
    },
    [body],
  );
  return WARCSerializer.serialize(record, { gzip: false });
}

/** A WARC with http://HOST/page and http://HOST/logo.png. */
export async function writeArchive(file: string, host: string): Promise<void> {
  const page = await response(`http://${host}/page`, 'text/html; charset=utf-8', Buffer.from(archivedPage()));
  const logo = await response(`http://${host}/logo.png`, 'image/png', await logoPng());
  writeFileSync(file, Buffer.concat([page, logo]));
}

/** A mirror tree: index.html and logo.png. */
export async function writeMirror(dir: string): Promise<void> {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'index.html'), '<html><body><h1>Mirrored page</h1><img src="logo.png"></body></html>\n');
  writeFileSync(join(dir, 'logo.png'), await logoPng());
}
