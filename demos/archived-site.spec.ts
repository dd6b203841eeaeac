// An archived web site in a browser, with no internet: the guest's DNS sends old-artwork.example
// to demotool, which replays the page and its image from a WARC capture (written here with
// warcio, as Webrecorder's tools write one). Recorded as demo-videos/archived-site/browse.mp4.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { WARCRecord, WARCSerializer } from 'warcio';
import { test, expect } from 'demotool/test';

const PAGE = `<html><head><title>Old artwork</title></head>
<body bgcolor="#fff8e0">
<h1><font size="7" color="#602000">Garden of Forking Paths</font></h1>
<p>An artwork's page as it was captured in 1998, replayed from a WARC.</p>
<p><img src="/stripes.png" width="240" height="60"></p>
</body></html>
`;

/** 240x60: red, green and blue stripes (an image that did not load would show). */
function stripes(): Promise<Buffer> {
  const stripe = (color: string, left: number) => ({ input: { create: { width: 80, height: 60, channels: 3 as const, background: color } }, left, top: 0 });
  return sharp({ create: { width: 240, height: 60, channels: 3, background: '#000000' } })
    .composite([stripe('#d03030', 0), stripe('#30a030', 80), stripe('#3030d0', 160)])
    .png()
    .toBuffer();
}

async function response(url: string, contentType: string, body: Buffer): Promise<Uint8Array> {
  const record = WARCRecord.create(
    {
      url,
      date: '1998-06-01T12:00:00Z',
      type: 'response',
      warcVersion: 'WARC/1.1',
      statusline: 'HTTP/1.1 200 OK',
      httpHeaders: { 'Content-Type': contentType },
    },
    [body],
  );
  return WARCSerializer.serialize(record);
}

/** The capture as Webrecorder's tools would write it: the page and its image. */
async function capture(): Promise<Buffer> {
  return Buffer.concat([
    await response('http://old-artwork.example/page', 'text/html', Buffer.from(PAGE)),
    await response('http://old-artwork.example/stripes.png', 'image/png', await stripes()),
  ]);
}

// The WARC exists while the file's VM does: written before it boots (its options are checked
// then) and removed after it stops.
test.use({
  vmImage: 'debian-12-desktop',
  vmOptions: [
    async ({}, use) => {
      const dir = mkdtempSync(join(tmpdir(), 'demotool-archived-site-'));
      const warc = join(dir, 'old-artwork.warc');
      writeFileSync(warc, await capture());
      await use({ services: { 'old-artwork.example': { archive: warc } } });
      rmSync(dir, { recursive: true, force: true });
    },
    { scope: 'worker' },
  ],
});

test('a browser in the guest shows an archived page', async ({ vm }) => {
  // Off camera: the session's xterm is up and has the keyboard.
  await vm.exec('xdotool search --sync --onlyvisible --class xterm');
  await vm.record('browse', async () => {
    await vm.keyboard.type('dillo -g 900x600+60+60 http://old-artwork.example/page &\n');
    await expect(vm).toShowText('Garden of Forking Paths', { timeout: 120_000 });
    await vm.waitForStableScreen({ duration: 1000 });
    await vm.pause(2000);
  });
  // The page and its image were served from the capture (the report has the log as an attachment).
  const served = readFileSync(vm.requestLog!, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { url?: string; outcome: string })
    .filter((e) => e.outcome === 'served')
    .map((e) => e.url);
  expect(served).toEqual(expect.arrayContaining(['http://old-artwork.example/page', 'http://old-artwork.example/stripes.png']));
});
