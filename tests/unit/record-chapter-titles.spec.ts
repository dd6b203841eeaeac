import { test, expect } from '@playwright/test';
import { execa } from 'execa';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chapterMetadata, escapeMetadata } from '../../src/record/join.js';

test('a carriage return in a title is escaped: it cannot end the line and start a new key', () => {
  expect(escapeMetadata('evil\rtitle=INJECTED')).toBe('evil\\\rtitle\\=INJECTED');
  const text = chapterMetadata([{ title: 'evil\r[CHAPTER]\rtitle=x', startMs: 0, endMs: 1 }]);
  // Every \r is preceded by a backslash.
  expect(text).not.toMatch(/[^\\]\r/);
  expect(text.match(/^\[CHAPTER\]$/gm)).toHaveLength(1);
});

test('a trailing backslash cannot swallow the line end; NUL is dropped', () => {
  expect(escapeMetadata('dir\\')).toBe('dir\\\\ ');
  expect(escapeMetadata('a\0b')).toBe('ab');
});

test('titles survive ffmpeg: written as FFMETADATA1, read back from a video with ffprobe', async () => {
  const hasFfmpeg = (await execa('sh', ['-c', 'command -v ffmpeg && command -v ffprobe'], { reject: false })).exitCode === 0;
  test.skip(!hasFfmpeg, 'ffmpeg is not installed');
  const titles = ['evil\rtitle=INJECTED', 'cr\r\nlf', 'a=b; #c\\d\ne', 'ends in a backslash\\', 'plain'];
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'chapters-'));
  try {
    const meta = path.join(dir, 'chapters.txt');
    const out = path.join(dir, 'out.mkv');
    await fs.writeFile(meta, chapterMetadata(titles.map((title, i) => ({ title, startMs: i * 200, endMs: (i + 1) * 200 }))));
    await execa(
      'ffmpeg',
      [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'color=c=black:s=16x16:r=10:d=1',
        '-i',
        meta,
        '-map',
        '0:v',
        '-map_metadata',
        '1',
        '-map_chapters',
        '1',
        '-c:v',
        'ffv1',
        '-y',
        out,
      ],
      { timeout: 60_000 },
    );
    const { stdout } = await execa('ffprobe', ['-v', 'error', '-of', 'json', '-show_chapters', out], { timeout: 60_000 });
    const chapters = (JSON.parse(stdout) as { chapters: { tags?: { title?: string } }[] }).chapters;
    expect(chapters.map((c) => c.tags?.title)).toEqual(titles.map((t) => (t.endsWith('\\') ? `${t} ` : t)));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});
