import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { multiaddr } from '@multiformats/multiaddr'
import type { ProviderInit } from '../../src/index.js'
import type { PeerTarget } from '@chiral/core'
import type { ChildProcess } from 'node:child_process'

const script = fileURLToPath(new URL('./provider-process.ts', import.meta.url))
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))

export interface ChildProvider {
  target: PeerTarget
  cid: string
  child: ChildProcess
  /** SIGKILL: the process dies at once, its sockets with it. */
  kill(): void
  /** Ends the process gracefully and waits for it. */
  stop(): Promise<void>
}

/** Starts `provider-process.ts` sharing `file` and waits until it serves; `init` is the provider's `ProviderInit`. */
export async function spawnProvider (relay: string, file: string, name?: string, timeoutMs = 30_000, init: ProviderInit = {}): Promise<ChildProvider> {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', script, relay, file, ...(name == null ? [] : [name])], {
    cwd: repoRoot,
    env: { ...process.env, CHIRAL_PROVIDER_INIT: JSON.stringify(init) },
    stdio: ['pipe', 'pipe', 'inherit']
  })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const line = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error('provider process did not start in time')) }, timeoutMs)
    const rl = createInterface({ input: child.stdout! })
    rl.once('line', (l) => { clearTimeout(timer); rl.close(); resolve(l) })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`provider process exited with ${code}`)) })
  })
  const info = JSON.parse(line) as { peerId: string, multiaddrs: string[], cid: string }
  return {
    target: { peerId: info.peerId, multiaddrs: info.multiaddrs.map((a) => multiaddr(a)) },
    cid: info.cid,
    child,
    kill () { child.kill('SIGKILL') },
    async stop () {
      if (child.exitCode == null && child.signalCode == null) {
        child.stdin?.end()
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited
        clearTimeout(timer)
      }
    }
  }
}
