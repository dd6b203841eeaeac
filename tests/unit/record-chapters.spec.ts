import { test, expect } from '@playwright/test';
import { chapterMetadata, chaptersFor } from '../../src/record/join.js';

test.describe('chapter metadata', () => {
  test('sections are laid end to end', () => {
    expect(
      chaptersFor([
        { title: 'Boot', durationSec: 5.2 },
        { title: 'Login', durationSec: 3.1 },
        { title: 'Logout', durationSec: 0.9 },
      ]),
    ).toEqual([
      { title: 'Boot', startMs: 0, endMs: 5200 },
      { title: 'Login', startMs: 5200, endMs: 8300 },
      { title: 'Logout', startMs: 8300, endMs: 9200 },
    ]);
  });

  test('FFMETADATA1 with one [CHAPTER] per section in ms', () => {
    expect(
      chapterMetadata([
        { title: 'Boot', startMs: 0, endMs: 5200 },
        { title: 'Login', startMs: 5200, endMs: 8300 },
      ]),
    ).toBe(
      [
        ';FFMETADATA1',
        '[CHAPTER]',
        'TIMEBASE=1/1000',
        'START=0',
        'END=5200',
        'title=Boot',
        '[CHAPTER]',
        'TIMEBASE=1/1000',
        'START=5200',
        'END=8300',
        'title=Login',
        '',
      ].join('\n'),
    );
  });

  test('special characters in titles are escaped', () => {
    const text = chapterMetadata([{ title: 'a=b; #c\\d\ne', startMs: 0, endMs: 1 }]);
    expect(text).toContain('title=a\\=b\\; \\#c\\\\d\\\ne\n');
  });
});
