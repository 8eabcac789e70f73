// Bundles the node into one file, dist/chiral-node.mjs, that runs with only
// Node installed: `node chiral-node.mjs`. The relay needs no native module.
// dist/run.mjs is the same code as a module exporting `runNode` (the
// package's "./run" export outside the "source" condition).
import { build } from 'esbuild'

await build({
  entryPoints: { 'chiral-node': 'src/main.ts', run: 'src/run.ts' },
  outdir: 'dist',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  conditions: ['source'],
  // ws optionally loads native helpers; without them it uses plain JS.
  external: ['bufferutil', 'utf-8-validate'],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __chiralCreateRequire } from 'node:module'; const require = __chiralCreateRequire(import.meta.url);"
  },
  legalComments: 'none',
  logLevel: 'warning'
})
