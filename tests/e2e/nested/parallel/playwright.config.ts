import { defineConfig } from '@playwright/test';
export default defineConfig({ testDir: '.', workers: 2, fullyParallel: true, timeout: 5 * 60_000, reporter: [['json']] });
