import { svelte } from '@sveltejs/vite-plugin-svelte'
import { defineConfig } from 'vite'

// Workspace packages resolve to their TypeScript sources ("source" export
// condition) and to their browser builds ("browser" condition), so the demo
// always runs the code in this repository without a separate package build.
const conditions = ['source', 'browser', 'module', 'import', 'default']

export default defineConfig({
  plugins: [svelte()],
  // Relative asset URLs: the built app works from any path (the node serves it at /).
  base: './',
  resolve: { conditions },
  build: {
    target: 'es2022',
    // libp2p is most of the bundle; one chunk keeps loading simple.
    chunkSizeWarningLimit: 2000
  }
})
