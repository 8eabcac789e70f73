// Bundles the command into one file, dist/chiral.mjs (`node dist/chiral.mjs`,
// or `chiral` once linked). node-datachannel, the direct path's native
// module, cannot go into a bundle: the file imports it by name at run time,
// so it resolves from node_modules next to the file or above it (in this
// repository packages/cli/node_modules, where pnpm links it). Copied
// elsewhere, the file needs `npm install node-datachannel@<catalog version>`
// beside it.
import { build } from 'esbuild'

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/chiral.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  conditions: ['source'],
  external: [
    'node-datachannel',
    'node-datachannel/*',
    // core imports it by a computed name, only when libp2p's own WebRTC transport is on (the peer never turns it on).
    '@libp2p/webrtc',
    // ws optionally loads native helpers; without them it uses plain JS.
    'bufferutil',
    'utf-8-validate'
  ],
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __chiralCreateRequire } from 'node:module'; const require = __chiralCreateRequire(import.meta.url);"
  },
  legalComments: 'none',
  logLevel: 'warning'
})
