/**
 * Imported first by demotool/test: throws PlaywrightCopiesError, naming the copies, when the
 * runner and demotool would use two different copies of Playwright Test.
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertOnePlaywright } from './playwright-copies.js';

assertOnePlaywright({
  demotoolDir: path.dirname(fileURLToPath(import.meta.url)),
  cwd: process.cwd(),
  loaded: Object.keys(createRequire(import.meta.url).cache),
});
