/**
 * Runs the built `chiral` command (packages/cli/dist/chiral.mjs) and the
 * built node (apps/node/dist/chiral-node.mjs) as child processes on loopback.
 */
import { execFile, spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { startChiralNode } from '../browser/support/node-process.js'
import type { ChiralNodeProcess } from '../browser/support/node-process.js'
import type { ChildProcess } from 'node:child_process'

const run = promisify(execFile)

export const CLI = fileURLToPath(new URL('../../packages/cli/dist/chiral.mjs', import.meta.url))
export const NODE_BUNDLE = fileURLToPath(new URL('../../apps/node/dist/chiral-node.mjs', import.meta.url))
const CLI_DIR = fileURLToPath(new URL('../../packages/cli/', import.meta.url))
const NODE_DIR = fileURLToPath(new URL('../../apps/node/', import.meta.url))

/** Builds the CLI (always: a second or two) and the node bundle when it is missing. */
export async function buildBundles (): Promise<void> {
  if (!existsSync(NODE_BUNDLE)) await run(process.execPath, ['build.mjs'], { cwd: NODE_DIR })
  await run(process.execPath, ['build.mjs'], { cwd: CLI_DIR })
}

export interface Proc {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  /** stdout's complete lines. */
  lines: () => string[]
  exited: Promise<number | null>
  /** Resolves once `test` holds for stdout; rejects when the process exits first or after `ms`. */
  waitFor: (test: (stdout: string) => boolean, ms?: number) => Promise<void>
  kill: (signal?: NodeJS.Signals) => void
}

const running = new Set<ChildProcess>()

/** Starts `node <script> ...args` with a clean environment (no CHIRAL_* from the caller). */
export function spawnScript (script: string, args: string[], cwd: string, env: Record<string, string> = {}): Proc {
  const child = spawn(process.execPath, [script, ...args], { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', ...env } })
  running.add(child)
  let out = ''
  let err = ''
  child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code, signal) => {
      running.delete(child)
      resolve(code ?? (signal === null ? null : -1))
    })
  })
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    lines: () => out.split('\n').filter((l) => l.length > 0),
    exited,
    waitFor: async (test, ms = 20_000) => {
      const deadline = Date.now() + ms
      while (!test(out)) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`process exited (${String(child.exitCode)}) before the expected output:\n${out}\n${err}`)
        if (Date.now() > deadline) throw new Error(`no expected output within ${ms} ms:\n${out}\n${err}`)
        await new Promise((resolve) => setTimeout(resolve, 50))
      }
    },
    kill: (signal = 'SIGTERM') => { child.kill(signal) }
  }
}

/** `chiral ...args`. */
export function chiral (args: string[], cwd: string): Proc {
  return spawnScript(CLI, args, cwd)
}

/** Runs `chiral ...args` to its end. */
export async function chiralRun (args: string[], cwd: string, ms = 40_000): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const p = chiral(args, cwd)
  const timer = setTimeout(() => { p.kill('SIGKILL') }, ms)
  const code = await p.exited
  clearTimeout(timer)
  return { code, stdout: p.stdout(), stderr: p.stderr() }
}

/** The built node on loopback, ephemeral ports, memory datastore; waits for its addresses. */
export async function startNode (workDir: string, args: string[] = []): Promise<ChiralNodeProcess> {
  return startChiralNode({ bundle: NODE_BUNDLE, host: '127.0.0.1', workDir, args: ['--datastore', 'memory', ...args] })
}

/** The node's loopback flags, as tests start it. */
export function nodeArgs (workDir: string, more: string[] = []): string[] {
  return [
    '--host', '127.0.0.1', '--port', '0', '--tcp-port', '0', '--ws-port', '0',
    '--allow-private-addresses', '--key-file', `${workDir}/node.key`, '--datastore', 'memory', '--log-level', 'warn',
    ...more
  ]
}

/** SIGTERM, then SIGKILL after 6 s. */
export async function stop (proc: Proc | undefined): Promise<void> {
  if (proc === undefined || proc.child.exitCode !== null || proc.child.signalCode !== null) return
  proc.kill('SIGTERM')
  const timer = setTimeout(() => { proc.kill('SIGKILL') }, 6000)
  await proc.exited
  clearTimeout(timer)
}

/** Kills whatever is still running (a failed test's processes). */
export function killAll (): void {
  for (const child of running) child.kill('SIGKILL')
}

export async function sha256File (path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return hash.digest('hex')
}

/** A loopback port nobody listens on. */
export { freePort as closedPort } from '../support/free-port.js'

/** stdout's lines as JSON events (throws on a line that is not JSON). */
export function jsonEvents (stdout: string): Array<Record<string, unknown> & { event: string }> {
  return stdout.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Record<string, unknown> & { event: string })
}
