/**
 * Network namespaces for WebRTC tests and benchmarks (Linux, root, iproute2).
 *
 * WebRTC stacks gather no ICE candidate on loopback alone (node-datachannel's
 * libjuice skips `lo`, Chromium too), and tests must not use the machine's
 * own interfaces. So a scenario runs inside a namespace the test creates:
 * `lo` up plus a veth pair with an address from 198.18.0.0/15 (benchmarking
 * range) and a default route through it. Both ends of the veth stay inside
 * the namespace, so no packet can leave it.
 *
 *   const ns = await createNetns()
 *   try { const out = await runNodeScript(ns, script, ['arg']) } finally { await ns.delete() }
 *
 * Every namespace created here is deleted by `delete()`, and, as a last
 * resort, when the process exits.
 */
import { execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'

const exec = promisify(execFile)

export type NetnsSupport = { ok: true } | { ok: false, reason: string }

export interface NetnsInit {
  /** Name prefix; a random suffix is added. Default `chiral`. */
  prefix?: string
  /** Address of the namespace's interface, CIDR. Default a random one in 198.18.0.0/24-ish. */
  address?: string
  /** Default route's gateway (on the veth, goes nowhere). Default 198.18.0.1. */
  gateway?: string
}

export interface Netns {
  readonly name: string
  /** The namespace's interface address (no prefix length). */
  readonly address: string
  /** Runs `ip <args>` inside the namespace (`ip -n name …`). */
  ip(args: string[]): Promise<string>
  /** Deletes the namespace; safe to call twice. */
  delete(): Promise<void>
}

const live = new Set<string>()
let exitHookInstalled = false

function installExitHook (): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const name of live) {
      try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }) } catch {}
    }
  })
}

async function ip (args: string[]): Promise<string> {
  const { stdout } = await exec('ip', args, { timeout: 10_000 })
  return stdout
}

/**
 * Whether namespaces can be made here: root, an `ip` command, and the kernel
 * allowing it (probed by creating and deleting one). The reason says why not.
 */
export async function netnsSupport (): Promise<NetnsSupport> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux (this is ${process.platform})` }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return { ok: false, reason: 'network namespaces need root' }
  try {
    await exec('ip', ['-V'])
  } catch {
    return { ok: false, reason: 'no `ip` command (install iproute2)' }
  }
  try {
    const ns = await createNetns({ prefix: 'chiral-probe' })
    await ns.delete()
  } catch (err) {
    return { ok: false, reason: `cannot create a network namespace: ${(err as Error).message.split('\n')[0] ?? ''}` }
  }
  return { ok: true }
}

/** Creates a namespace with `lo` up and a veth with an address and a default route. */
export async function createNetns (init: NetnsInit = {}): Promise<Netns> {
  installExitHook()
  const name = `${init.prefix ?? 'chiral'}-${randomBytes(4).toString('hex')}`
  const host = 2 + (randomBytes(1)[0] ?? 0) % 250
  const cidr = init.address ?? `198.18.0.${host}/24`
  const address = cidr.split('/')[0] ?? cidr
  const gateway = init.gateway ?? '198.18.0.1'
  await ip(['netns', 'add', name])
  live.add(name)
  const ns: Netns = {
    name,
    address,
    ip: async (args) => ip(['-n', name, ...args]),
    delete: async () => {
      if (!live.has(name)) return
      live.delete(name)
      await ip(['netns', 'del', name])
    }
  }
  try {
    await ns.ip(['link', 'set', 'lo', 'up'])
    await ns.ip(['link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1'])
    await ns.ip(['addr', 'add', cidr, 'dev', 'veth0'])
    await ns.ip(['link', 'set', 'veth0', 'up'])
    await ns.ip(['link', 'set', 'veth1', 'up'])
    await ns.ip(['route', 'add', 'default', 'via', gateway, 'dev', 'veth0'])
  } catch (err) {
    await ns.delete().catch(() => {})
    throw err
  }
  return ns
}

/** Runs `fn` with a fresh namespace and always deletes it afterwards. */
export async function withNetns<T> (fn: (ns: Netns) => Promise<T>, init?: NetnsInit): Promise<T> {
  const ns = await createNetns(init)
  try {
    return await fn(ns)
  } finally {
    await ns.delete()
  }
}

export interface NodeScriptOptions {
  args?: string[]
  env?: Record<string, string>
  signal?: AbortSignal
}

/**
 * Starts `node --conditions=source --import tsx <script> …args` inside the
 * namespace (`ip netns exec`). The child inherits the working directory, so
 * run from the repository (tsx and workspace packages resolve from there).
 */
export function spawnNodeScript (ns: Netns, script: string, options: NodeScriptOptions = {}): ChildProcessWithoutNullStreams {
  const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, '--conditions=source', '--import', 'tsx', script, ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    stdio: ['pipe', 'pipe', 'pipe']
  })
  const kill = (): void => { child.kill('SIGKILL') }
  options.signal?.addEventListener('abort', kill, { once: true })
  child.once('exit', () => { options.signal?.removeEventListener('abort', kill) })
  return child
}

export interface ScriptResult<T> {
  /** The last JSON line the script printed on stdout. */
  result: T
  stderr: string
  code: number | null
}

/**
 * Runs a script inside the namespace to its end and parses the last line of
 * its stdout as JSON. Rejects on a non-zero exit (with its stderr), on no
 * JSON, or when `signal` aborts (the child is killed).
 */
export async function runNodeScript<T> (ns: Netns, script: string, options: NodeScriptOptions = {}): Promise<ScriptResult<T>> {
  const child = spawnNodeScript(ns, script, options)
  child.stdin.end()
  return collect<T>(child, options.signal)
}

/** Waits for a child to exit and parses the last JSON line of its stdout. */
export async function collect<T> (child: ChildProcessWithoutNullStreams, signal?: AbortSignal): Promise<ScriptResult<T>> {
  let stderr = ''
  let last: string | undefined
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-20_000) })
  const lines = createInterface({ input: child.stdout })
  lines.on('line', (line) => { if (line.startsWith('{')) last = line })
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (c) => { resolve(c) })
  })
  if (signal?.aborted === true) throw new Error(`script aborted: ${String(signal.reason)}\n${stderr}`)
  if (code !== 0) throw new Error(`script exited with ${String(code)}\n${stderr}`)
  if (last == null) throw new Error(`script printed no JSON\n${stderr}`)
  return { result: JSON.parse(last) as T, stderr, code }
}
