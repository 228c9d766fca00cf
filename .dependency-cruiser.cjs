/**
 * The layers of loadbench, enforced in CI (`npm run lint:deps`): imports point one way,
 *   engine  <-  core  <-  reporters  <-  adapters (plugin/ for Vitest, cli/, api/, index.ts)
 * and only the Vitest adapter knows Vitest. See README "Development".
 */
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A cycle ties modules together so that none can change alone.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'engine-imports-nothing-above',
      severity: 'error',
      comment: 'The engine (sockets, levels, histograms) is the bottom layer: it imports nothing of loadbench above it.',
      from: { path: '^engine/' },
      to: { path: '^(core|reporters|plugin|cli|api)/|^index\\.ts$' },
    },
    {
      name: 'core-imports-no-reporter-or-adapter',
      severity: 'error',
      comment: 'The core gets its outputs injected (RunOutputs); it never imports a formatter or an adapter.',
      from: { path: '^core/' },
      to: { path: '^(reporters|plugin|cli|api)/|^index\\.ts$' },
    },
    {
      name: 'reporters-import-only-the-summary-model',
      severity: 'error',
      comment: 'Reporters are formatters of the summary model (core/model) plus thin writers.',
      from: { path: '^reporters/' },
      to: { path: '^(engine|plugin|cli|api)/|^core/(?!model/)|^index\\.ts$' },
    },
    {
      name: 'only-the-vitest-adapter-knows-vitest',
      severity: 'error',
      comment: 'Vitest (and Vite) sit in plugin/ alone, so that a new Vitest major rewrites one folder.',
      from: { path: '^(engine|core|reporters|cli|api)/|^index\\.ts$' },
      to: { path: '(^|/)node_modules/(vitest|vite|@vitest/[^/]+)/' },
    },
    {
      name: 'adapters-stay-apart',
      severity: 'error',
      comment: 'The command line and the API do not reach into the Vitest adapter, nor the other way round.',
      from: { path: '^(cli|api)/' },
      to: { path: '^plugin/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // What `loadbench init` copies into a user's project: a user's files, importing the package by its name.
    exclude: { path: '^cli/init-files/' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default', 'types'] },
  },
};
