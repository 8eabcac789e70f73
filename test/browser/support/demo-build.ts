/**
 * Builds the demo app for the browser tests with Vite, as a user would
 * (`vite build`), with settings for a lab that has no STUN server.
 */
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const REPO = fileURLToPath(new URL('../../../', import.meta.url))
export const DEMO_ROOT = fileURLToPath(new URL('../../../apps/demo/', import.meta.url))
export const NODE_BUNDLE = fileURLToPath(new URL('../../../apps/node/dist/chiral-node.mjs', import.meta.url))
const VITE = fileURLToPath(new URL('../../../apps/demo/node_modules/vite/bin/vite.js', import.meta.url))

/** Runs `vite build --outDir outDir` in apps/demo; rejects with Vite's output on failure. */
export async function buildDemo (outDir: string, env: Record<string, string> = {}): Promise<void> {
  if (!existsSync(VITE)) throw new Error('vite is not installed in apps/demo (run pnpm install)')
  const child = spawn(process.execPath, [VITE, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: DEMO_ROOT,
    env: { ...process.env, VITE_ICE_SERVERS: 'none', ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>((resolve) => { child.once('close', resolve) })
  if (code !== 0) throw new Error(`vite build failed (${String(code)}):\n${out}`)
}
