import { test, expect } from '@playwright/test';
// @ts-expect-error: a plain .mjs script (it runs before node_modules exists), without type declarations
import { browserPackages } from '../../scripts/host-packages.mjs';

test("setup installs Debian's chromium for the real-browser fixtures test, and nothing elsewhere", () => {
  expect(browserPackages({ family: 'apt', ids: { id: 'debian', like: [] } }).install).toEqual(['chromium']);
  // Ubuntu's chromium package only installs a snap.
  const ubuntu = browserPackages({ family: 'apt', ids: { id: 'ubuntu', like: ['debian'] } });
  expect(ubuntu.install).toEqual([]);
  expect(ubuntu.notes.join('\n')).toMatch(/\/usr\/bin\/chromium/);
  expect(browserPackages({ family: 'dnf', ids: { id: 'fedora', like: [] } }).install).toEqual([]);
});
