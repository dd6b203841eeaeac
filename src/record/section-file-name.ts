/** Longest section file name, in UTF-8 bytes: room for the extension and temp-file tags under 255. */
const MAX_NAME_BYTES = 150;
const MAX_NAME_CHARS = 100;
const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * A section name as a file name: lowercase letters (accents kept) and digits of any script,
 * `.`, `_` and `-` (Café → café, 日本語, русский); no separators, controls or leading dots
 * (no hidden files, no traversal); at most 100 characters and 150 bytes; never empty.
 * Different names can fold to one file ('A B' and 'a-b'): recordSection refuses the second
 * of them in one directory.
 */
export function safeFileName(section: string): string {
  // NFKC: one spelling per letter (é composed), compatibility forms folded (ﬁ → fi, Ａ → a).
  const folded = String(section).normalize('NFKC').toLowerCase();
  const name = folded
    .replace(/[^\p{L}\p{N}\p{M}._-]+/gu, '-')
    .replace(/\.{2,}/g, '.')
    .replace(/-{2,}/g, '-')
    .replace(/^[-.\p{M}]+|[-.]+$/gu, '');
  let out = '';
  let chars = 0;
  for (const { segment } of graphemes.segment(name)) {
    chars += [...segment].length;
    if (chars > MAX_NAME_CHARS || Buffer.byteLength(out + segment) > MAX_NAME_BYTES) break;
    out += segment;
  }
  return out.replace(/[-.]+$/, '') || 'section';
}
