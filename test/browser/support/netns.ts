/**
 * A throw-away network namespace for browser tests (Linux, root, iproute2).
 *
 * Chromium gathers no ICE candidate on loopback alone, and none without a
 * default route, so every browser scenario runs inside a namespace made
 * here: `lo` up plus a veth pair whose both ends stay inside, with an
 * address from 198.18.0.0/15 (the benchmarking range) and a default route
 * through it. No packet can leave the namespace.
 *
 *   const ns = await createBrowserNetns()
 *   try { … `ip netns exec ${ns.name} …` … } finally { await ns.delete() }
 *
 * Namespaces still alive when the process exits are deleted then.
 */
import { execFile, execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const exec = promisify(execFile)

export interface BrowserNetns {
  readonly name: string
  /** The namespace's own address (on veth0). */
  readonly address: string
  /** Runs a command inside the namespace and returns its stdout. */
  run(command: string, args: string[]): Promise<string>
  /** Deletes the namespace; safe to call twice. */
  delete(): Promise<void>
}

const live = new Set<string>()
let hooked = false

function deleteLeftovers (): void {
  for (const name of live) {
    try { execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore' }) } catch {}
  }
  live.clear()
}

async function ip (args: string[]): Promise<string> {
  return (await exec('ip', args, { timeout: 10_000 })).stdout
}

/** Creates the namespace. Rejects (leaving nothing behind) when it cannot. */
export async function createBrowserNetns (prefix = 'chiral-web'): Promise<BrowserNetns> {
  if (!hooked) {
    hooked = true
    process.once('exit', deleteLeftovers)
  }
  const name = `${prefix}-${randomBytes(4).toString('hex')}`
  const address = `198.18.${(randomBytes(1)[0] ?? 0) % 128}.${2 + (randomBytes(1)[0] ?? 0) % 250}`
  const gateway = address.replace(/\.\d+$/, '.1')
  await ip(['netns', 'add', name])
  live.add(name)
  const ns: BrowserNetns = {
    name,
    address,
    run: async (command, args) => (await exec('ip', ['netns', 'exec', name, command, ...args], { timeout: 10_000 })).stdout,
    delete: async () => {
      if (!live.delete(name)) return
      await ip(['netns', 'del', name])
    }
  }
  try {
    const inNs = async (args: string[]): Promise<string> => ip(['-n', name, ...args])
    await inNs(['link', 'set', 'lo', 'up'])
    await inNs(['link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth1'])
    await inNs(['addr', 'add', `${address}/24`, 'dev', 'veth0'])
    await inNs(['link', 'set', 'veth0', 'up'])
    await inNs(['link', 'set', 'veth1', 'up'])
    await inNs(['route', 'add', 'default', 'via', gateway, 'dev', 'veth0'])
  } catch (err) {
    await ns.delete().catch(() => {})
    throw err
  }
  return ns
}

/** Why browser tests cannot run here, or undefined when they can. */
export async function netnsUnavailable (): Promise<string | undefined> {
  if (process.platform !== 'linux') return `network namespaces need Linux (this is ${process.platform})`
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  try {
    await exec('ip', ['-V'])
  } catch {
    return 'no `ip` command (install iproute2)'
  }
  try {
    await (await createBrowserNetns('chiral-probe')).delete()
  } catch (err) {
    return `cannot create a network namespace: ${(err as Error).message.split('\n')[0] ?? ''}`
  }
  return undefined
}
