import { test, expect } from '@playwright/test';
import { readFileSync } from 'node:fs';

/** The files README's "Use it in your project" shows: each code block under a "`path`:" caption. */
function readmeProjectFiles(): Map<string, string> {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf('\n## Use it in your project\n');
  const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
  const files = new Map<string, string>();
  for (const m of section.matchAll(/`([\w./-]+\.ts)`:\n\n```ts\n([\s\S]*?)```/g)) files.set(m[1]!, m[2]!);
  return files;
}

test("README's project files are examples/project's, word for word", () => {
  const files = readmeProjectFiles();
  expect([...files.keys()]).toEqual(['playwright.config.ts', 'tests/first.spec.ts']);
  for (const [name, text] of files) expect(text, name).toBe(readFileSync(`examples/project/${name}`, 'utf8'));
});

test('the example project depends on demotool and a @playwright/test in the peer range', () => {
  const example = JSON.parse(readFileSync('examples/project/package.json', 'utf8')) as { devDependencies: Record<string, string> };
  const ours = JSON.parse(readFileSync('package.json', 'utf8')) as { version: string; peerDependencies: Record<string, string> };
  expect(example.devDependencies.demotool).toBe(`^${ours.version}`);
  expect(ours.peerDependencies['@playwright/test']).toBe('>=1.53 <2');
  expect(example.devDependencies['@playwright/test']).toBe('^1.53.0');
});
