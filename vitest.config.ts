import { defineConfig } from 'vitest/config'

// Tests run against TypeScript sources through the "source" export condition.
const conditions = ['source', 'node', 'import', 'default']

export default defineConfig({
  resolve: { conditions },
  ssr: { resolve: { conditions, externalConditions: conditions } },
  test: {
    setupFiles: [new URL('./packages/core/src/polyfill.ts', import.meta.url).pathname],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      { extends: true, test: { name: 'core', root: 'packages/core', include: ['test/**/*.spec.ts'] } },
      { extends: true, test: { name: 'signaling', root: 'packages/signaling', include: ['test/**/*.spec.ts'] } },
      { extends: true, test: { name: 'transport', root: 'packages/transport', include: ['test/**/*.spec.ts'] } },
      { extends: true, test: { name: 'peer', root: 'packages/peer', include: ['test/**/*.spec.ts'] } },
      { extends: true, test: { name: 'node-app', root: 'apps/node', include: ['test/**/*.spec.ts'] } },
      { extends: true, test: { name: 'e2e', root: 'test', include: ['**/*.spec.ts'], exclude: ['**/node_modules/**'] } }
    ]
  }
})
