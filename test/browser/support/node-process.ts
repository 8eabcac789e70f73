/**
 * Starts the built chiral-node (apps/node/dist/chiral-node.mjs) as a child
 * process on one address, serving a built demo, and waits until it prints
 * its addresses.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import type { ChildProcess } from 'node:child_process'

export interface ChiralNodeProcess {
  child: ChildProcess
  peerId: string
  signalingUrl: string
  /** http:// URL of the demo app (the node's HTTP port; empty when it serves none). */
  demoUrl: string
  multiaddrs: string[]
  output: () => string
  stop: () => Promise<void>
}

export interface ChiralNodeInit {
  bundle: string
  host: string
  /** Serve this built demo on the HTTP port. */
  demoDir?: string
  workDir: string
  /** More chiral-node flags. */
  args?: string[]
  /** Run it inside this network namespace (`ip netns exec`). */
  netns?: string
}

export async function startChiralNode (init: ChiralNodeInit): Promise<ChiralNodeProcess> {
  const argv = [
    init.bundle,
    '--host', init.host, '--port', '0', '--tcp-port', '0', '--ws-port', '0',
    '--allow-private-addresses', '--key-file', join(init.workDir, 'node.key'),
    ...(init.demoDir === undefined ? [] : ['--demo-dir', init.demoDir]), '--log-level', 'warn',
    ...(init.args ?? [])
  ]
  const [command, args] = init.netns === undefined ? [process.execPath, argv] : ['ip', ['netns', 'exec', init.netns, process.execPath, ...argv]]
  const child = spawn(command, args, { cwd: init.workDir, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr.on('data', (d: Buffer) => { out += d.toString() })
  const exited = new Promise<void>((resolve) => { child.once('exit', () => { resolve() }) })
  const deadline = Date.now() + 30_000
  while (!/libp2p multiaddrs[\s\S]*\/p2p\/\S+\n/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`chiral-node did not start:\n${out}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const demo = /^demo: (\S+)/m.exec(out)?.[1]
  if (demo === undefined && init.demoDir !== undefined) throw new Error(`chiral-node printed no demo URL:\n${out}`)
  return {
    child,
    peerId: /peer id (\S+)/.exec(out)?.[1] ?? '',
    signalingUrl: /signaling: (\S+)/.exec(out)?.[1] ?? '',
    demoUrl: demo ?? '',
    multiaddrs: [...out.matchAll(/^ {2}(\/\S+)$/gm)].map((m) => m[1] ?? ''),
    output: () => out,
    stop: async () => {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 6000)
      await exited
      clearTimeout(timer)
    }
  }
}
