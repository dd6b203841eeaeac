/**
 * The layers' rules (README, "Design"): dependencies point one way, fixtures → api →
 * vnc/record/watchdog/network → libvirt/images, with the files directly in src/ (errors, log, timeouts,
 * geometry, frames, ...) as a foundation every layer may use. A layer is entered only through its
 * index.ts (the API layer also by internal.ts, for the fixtures, the CLI and compat). `npm run check` runs this.
 */
const LAYERS = ['images', 'libvirt', 'vnc', 'record', 'watchdog', 'network', 'api', 'compat', 'exhibit', 'cli'];
const below = {
  images: [],
  libvirt: [],
  vnc: [],
  record: [],
  watchdog: ['libvirt'],
  network: [],
  api: ['images', 'libvirt', 'vnc', 'record', 'watchdog', 'network'],
  compat: ['api'],
  exhibit: ['api', 'watchdog', 'network', 'libvirt', 'images'],
  cli: ['api', 'exhibit', 'images', 'libvirt', 'network'],
};

const layerRules = LAYERS.map((layer) => {
  const allowed = [layer, ...below[layer]];
  return {
    name: `layer-${layer}`,
    comment: `src/${layer} may use only ${allowed.map((l) => `src/${l}`).join(', ')} and the foundation files in src/`,
    severity: 'error',
    from: { path: `^src/${layer}/` },
    to: { path: '^src/[^/]+/', pathNot: allowed.map((l) => `^src/${l}/`) },
  };
});

module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: { path: '^(src|fixtures)/' }, to: { circular: true } },
    ...layerRules,
    {
      name: 'foundation-uses-no-layer',
      comment: 'the files directly in src/ are the foundation: they import no layer',
      severity: 'error',
      from: { path: '^src/[^/]+\\.ts$', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/[^/]+/' },
    },
    {
      name: 'enter-a-layer-by-its-index',
      comment: "another layer's files are reached through its index.ts, never its internals",
      severity: 'error',
      from: { path: '^(src/([^/]+)/|fixtures/|src/index\\.ts$)' },
      to: { path: '^src/([^/]+)/.+', pathNot: ['^src/$2/', '^src/[^/]+/index\\.ts$', '^src/api/internal\\.ts$'] },
    },
    {
      name: 'api-internal-is-for-our-glue',
      comment: "src/api/internal.ts is the API layer's face for the fixtures, the CLI, demotool/compat and the exhibit daemon only",
      severity: 'error',
      from: { pathNot: '^(fixtures/|src/(cli|compat|exhibit|api)/)' },
      to: { path: '^src/api/internal\\.ts$' },
    },
    {
      name: 'fixtures-use-the-public-api',
      comment: 'fixtures/ is Playwright glue over the public API: src/index.ts, src/api and the foundation',
      severity: 'error',
      from: { path: '^fixtures/' },
      to: { path: '^src/(images|libvirt|vnc|record|watchdog|cli|compat)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
