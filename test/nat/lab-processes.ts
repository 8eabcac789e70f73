/**
 * Processes and extra router rules for NAT lab specs: the real chiral-node
 * in `pub`, lab peers (peer.ts) in the homes, their JSON lines.
 */
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ChildProcess } from 'node:child_process'
import type { Lab, Side } from './lab.js'

const BUNDLE = fileURLToPath(new URL('../../apps/node/dist/chiral-node.mjs', import.meta.url))
const PEER = fileURLToPath(new URL('./peer.ts', import.meta.url))
const TEST_DIR = fileURLToPath(new URL('..', import.meta.url))

/** Reads a child's stdout until a JSON line matching `pick` shows up. */
export async function jsonLine (child: ChildProcess, pick: (v: Record<string, unknown>) => boolean, ms: number, what: string): Promise<Record<string, any>> {
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => { err += d.toString() })
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`${what}: no result within ${ms} ms\nstdout: ${out}\nstderr: ${err.slice(-3000)}`)) }, ms)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      for (const line of out.split('\n')) {
        if (!line.startsWith('{')) continue
        try {
          const v = JSON.parse(line) as Record<string, unknown>
          if (pick(v)) { clearTimeout(timer); resolve(v); return }
        } catch {}
      }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited with ${String(code)}\nstdout: ${out}\nstderr: ${err.slice(-3000)}`)) })
  })
}

export interface NodeStartOptions {
  /**
   * Folder of the key file and (unless `args` say otherwise) the datastore:
   * pass the `stateDir` of an earlier start to restart the same node
   * (default: a new folder).
   */
  stateDir?: string
  /** More chiral-node flags, e.g. `['--datastore', 'memory']`. */
  args?: string[]
}

/** A chiral-node started in `pub`; `child` is the process (SIGKILL it to crash the node). */
export interface LabNode {
  relay: string
  signalingUrl: string
  multiaddrs: string[]
  child: ChildProcess
  stateDir: string
}

/** Starts chiral-node (apps/node's bundle: build it first) in `pub`, announcing its public address. */
export async function startNode (lab: Lab, options: NodeStartOptions = {}): Promise<LabNode> {
  const stateDir = options.stateDir ?? mkdtempSync(join(tmpdir(), 'chiral-nat-node-'))
  const child = lab.spawn(lab.namespaces.pub, process.execPath, [
    BUNDLE, '--host', '0.0.0.0', '--port', '9000', '--tcp-port', '4001', '--ws-port', '4002',
    '--announce', `/ip4/${lab.pubIp}/tcp/4001,/ip4/${lab.pubIp}/tcp/4002/ws`,
    '--allow-private-addresses', '--key-file', join(stateDir, 'node.key'), '--log-level', 'warn',
    ...(options.args ?? [])
  ])
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`chiral-node did not start: ${out}`)) }, 20_000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (/libp2p multiaddrs[\s\S]*\/p2p\/\S+\n[\s\S]*\/p2p\/\S+\n/.test(out)) { clearTimeout(timer); resolve() }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`chiral-node exited with ${String(code)}: ${out}`)) })
  })
  const multiaddrs = [...out.matchAll(/^ {2}(\/\S+)$/gm)].map((m) => m[1]!)
  return {
    multiaddrs,
    relay: multiaddrs.find((a) => !a.includes('/ws'))!,
    signalingUrl: /signaling: (\S+)/.exec(out)![1]!,
    child,
    stateDir
  }
}

/** Spawns peer.ts in a home namespace with `settings` (see peer.ts). */
export function startPeer (lab: Lab, home: string, settings: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return lab.spawn(home, process.execPath, ['--conditions=source', '--import', 'tsx', PEER, JSON.stringify(settings)], {
    cwd: TEST_DIR,
    env: { ...process.env, ...env }
  })
}

/**
 * Extra router rules for direct-TCP specs, added from the spec, not in
 * lab.ts: both routers drop every forwarded UDP packet (so no WebRTC or
 * QUIC path can work: only TCP crosses), and count TCP packets each router
 * sends from its home straight to the other router (a direct TCP path).
 */
export async function dropUdpAndCountTcp (lab: Lab): Promise<void> {
  for (const side of ['a', 'b'] as const) {
    const router = side === 'a' ? lab.namespaces.ra : lab.namespaces.rb
    await lab.run(router, 'iptables', ['-w', '-I', 'FORWARD', '1', '-p', 'udp', '-j', 'DROP'])
    await lab.run(router, 'iptables', ['-w', '-t', 'mangle', '-A', 'POSTROUTING', '-o', 'wan', '-p', 'tcp', '-d', lab.wanIp[side === 'a' ? 'b' : 'a']])
  }
}

/** Packets counted by `dropUdpAndCountTcp`: TCP router `side` sent to the other router, and UDP it dropped. */
export async function routerCounts (lab: Lab, side: Side): Promise<{ tcpToPeerRouter: number, udpDropped: number }> {
  const router = side === 'a' ? lab.namespaces.ra : lab.namespaces.rb
  const mangle = await lab.run(router, 'iptables', ['-w', '-t', 'mangle', '-L', 'POSTROUTING', '-v', '-x', '-n'])
  const tcp = mangle.split('\n').find((l) => /\s(tcp|6)\s/.test(l) && l.includes(lab.wanIp[side === 'a' ? 'b' : 'a']))
  const forward = await lab.run(router, 'iptables', ['-w', '-L', 'FORWARD', '-v', '-x', '-n'])
  const udp = forward.split('\n').find((l) => /DROP\s+(udp|17)\s/.test(l))
  return { tcpToPeerRouter: Number(tcp?.trim().split(/\s+/)[0] ?? 0), udpDropped: Number(udp?.trim().split(/\s+/)[0] ?? 0) }
}

/**
 * Every NAT mapping of home `side` changes at once, as when its router
 * reboots or the home moves from Wi-Fi to mobile: TCP and UDP leave from new
 * ports (a port range the router never used before) and the router forgets
 * every connection it tracked (`conntrack -F`). Connections through it die:
 * the far end answers a segment from an unknown port with a reset.
 */
export async function changeMappings (lab: Lab, side: Side, generation = 1): Promise<void> {
  const router = side === 'a' ? lab.namespaces.ra : lab.namespaces.rb
  const ports = `${20000 + generation * 5000}-${24999 + generation * 5000}`
  const rules = await lab.run(router, 'iptables', ['-w', '-t', 'nat', '-S', 'POSTROUTING'])
  const random = /MASQUERADE.*--random-fully/.test(rules) ? ['--random-fully'] : []
  for (const proto of ['udp', 'tcp']) {
    await lab.run(router, 'iptables', ['-w', '-t', 'nat', '-I', 'POSTROUTING', '1', '-o', 'wan', '-p', proto, '-j', 'MASQUERADE', '--to-ports', ports, ...random])
  }
  await lab.run(router, 'conntrack', ['-F']).catch(() => '')
}
