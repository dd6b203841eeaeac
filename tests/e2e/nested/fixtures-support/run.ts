import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestInfo } from '@playwright/test';
import { runNested } from '../../support/nested.js';

export interface Note {
  file: string;
  title: string;
  vm: string;
  domid: string;
  port: number;
  worker: number;
  pid: number;
  boots: number;
  demo: string;
  at: number;
  [k: string]: unknown;
}

export interface JsonAttachment {
  name: string;
  contentType: string;
  path?: string;
  body?: string;
}
export interface JsonStep {
  title: string;
  steps?: JsonStep[];
  error?: unknown;
}
export interface JsonResult {
  status: string;
  attachments: JsonAttachment[];
  steps: JsonStep[];
  errors: { message?: string }[];
  retry: number;
  stderr: { text?: string }[];
}
export interface JsonTest {
  title: string;
  file: string;
  results: JsonResult[];
  status: string;
}

/** Runs a suite from tests/e2e/nested/ with NESTED_OUT set to a fresh directory of this test. */
export async function runFixtureSuite(testInfo: TestInfo, suite: string, args: string[] = [], env: Record<string, string> = {}, outName = suite) {
  const out = testInfo.outputPath(outName);
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  // Test output under `out` too (where the outer test looks for videos and attachments).
  const run = await runNested(join(dirname(fileURLToPath(import.meta.url)), '..', suite), [`--output=${join(out, 'test-results')}`, ...args], {
    NESTED_OUT: out,
    ...env,
  });
  return { run, out, notes: () => readNotes(out), report: () => readReport(out) };
}

function readNotes(out: string): Note[] {
  const path = join(out, 'notes.jsonl');
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Every test of a Playwright JSON report, flattened. */
function readReport(out: string): JsonTest[] {
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  const tests: JsonTest[] = [];
  const walk = (suite: { specs?: { title: string; file: string; tests: { results: JsonResult[]; status: string }[] }[]; suites?: unknown[] }) => {
    for (const spec of suite.specs ?? []) for (const t of spec.tests) tests.push({ title: spec.title, file: spec.file, results: t.results, status: t.status });
    for (const s of (suite.suites ?? []) as (typeof suite)[]) walk(s);
  };
  for (const s of report.suites) walk(s);
  return tests;
}

/** All step titles of a result, depth first, indented by nesting. */
export function stepTitles(steps: JsonStep[], depth = 0): string[] {
  return steps.flatMap((s) => [`${'  '.repeat(depth)}${s.title}`, ...stepTitles(s.steps ?? [], depth + 1)]);
}
