import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'

export const BUNDLE = fileURLToPath(new URL('../dist/chiral-node.mjs', import.meta.url))

export interface NodeProcess {
  child: ChildProcess
  peerId: string
  signalingUrl: string
  httpUrl: string
  multiaddrs: string[]
  stdout: () => string
  stderr: () => string
  exited: Promise<{ code: number | null, signal: NodeJS.Signals | null }>
}

export function tempDir (): string {
  return mkdtempSync(join(tmpdir(), 'chiral-node-test-'))
}

/** Spawns the built chiral-node on loopback (ephemeral ports) and waits until it is ready. */
export async function startNodeProcess (args: string[] = [], options: { cwd?: string, bundle?: string, keyFile?: string } = {}): Promise<NodeProcess> {
  const cwd = options.cwd ?? tempDir()
  const child = spawn(process.execPath, [
    options.bundle ?? BUNDLE,
    '--host', '127.0.0.1', '--port', '0', '--tcp-port', '0', '--ws-port', '0',
    '--allow-private-addresses', '--key-file', options.keyFile ?? join(cwd, 'node.key'),
    ...args
  ], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '' } })
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<{ code: number | null, signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => { resolve({ code, signal }) })
  })
  const deadline = Date.now() + 20_000
  while (!/libp2p multiaddrs[\s\S]*\/p2p\/\S+\n/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`chiral-node did not start (exit ${String(child.exitCode)}):\n${out}\n${err}`)
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  const signalingUrl = /signaling: (\S+)/.exec(out)![1]!
  return {
    child,
    peerId: /peer id (\S+)/.exec(out)![1]!,
    signalingUrl,
    httpUrl: signalingUrl.replace(/^ws/, 'http'),
    multiaddrs: [...out.matchAll(/^ {2}(\/\S+)$/gm)].map((m) => m[1]!),
    stdout: () => out,
    stderr: () => err,
    exited
  }
}

export async function stopNodeProcess (p: NodeProcess | undefined): Promise<void> {
  if (p === undefined || p.child.exitCode !== null) return
  p.child.kill('SIGTERM')
  const timer = setTimeout(() => p.child.kill('SIGKILL'), 6000)
  await p.exited
  clearTimeout(timer)
}
