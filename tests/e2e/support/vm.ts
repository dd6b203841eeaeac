import { test } from '@playwright/test';
import { startDemo, type DemoSession, type Vm } from '../../../src/index.js';

/**
 * One VM shared by the tests of a file (booting is the slow part under TCG).
 * Use with test.describe.configure({ mode: 'serial' }).
 */
export function sharedVm(image: string, demoName: string): { vm: () => Vm; demo: () => DemoSession } {
  let demo: DemoSession | undefined;
  let vm: Vm | undefined;
  test.beforeAll(async ({}, testInfo) => {
    testInfo.setTimeout(5 * 60_000);
    demo = await startDemo(demoName, { outputDir: testInfo.outputPath('videos'), artifactsDir: testInfo.outputPath('artifacts') });
    vm = await demo.vm(image);
  });
  test.afterAll(async () => {
    await demo?.close();
  });
  return { vm: () => vm!, demo: () => demo! };
}

/** Every printable ASCII character, space to tilde. */
export const PRINTABLE = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join('');

/** `n` printable characters picked at random. */
export function randomText(n: number): string {
  return Array.from({ length: n }, () => PRINTABLE[Math.floor(Math.random() * PRINTABLE.length)]).join('');
}
