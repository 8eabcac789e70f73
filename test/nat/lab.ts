/**
 * A NAT lab in network namespaces (Linux, root; iproute2, iptables, coturn).
 *
 * ```
 *            pub (198.18.0.1/24 on bridge br0): chiral-node, STUN (coturn)
 *           ╱                                   ╲
 *   ra: wan 198.18.0.11                    rb: wan 198.18.0.12
 *       NAT (kind A)                           NAT (kind B)
 *       lan 198.19.1.1/24                      lan 198.19.2.1/24
 *           │                                      │
 *   ha: 198.19.1.2 (peer A)                 hb: 198.19.2.2 (peer B)
 * ```
 *
 * All addresses live only inside these namespaces (198.18.0.0/15 is the
 * benchmarking range); no namespace has a path to the machine's own network.
 *
 * `wanRange: 'global'` puts the public side (pub and the routers' WAN
 * addresses) on 198.20.0.0/24 instead (pub 198.20.0.1, routers .11 and .12;
 * the homes stay on 198.19.x). libp2p counts 198.18.0.0/15, like every
 * IANA special-purpose IPv4 range, as private (`isPrivate` in
 * @libp2p/utils): AutoNAT v2 neither asks for nor performs a dial-back to
 * such an address, so in the default lab nothing can ever be confirmed
 * publicly reachable. 198.20.0.0/24 is an ordinary, globally routable range
 * (not ours); it can stand in for the internet here only because these
 * namespaces have no link to any other network, so nothing sent to it
 * leaves them. The homes' 198.19.x stay private to libp2p, as a home LAN is.
 *
 * NAT kinds (Linux conntrack/iptables):
 * - `cone`: endpoint-independent mapping (MASQUERADE keeps the source port)
 *   and endpoint-independent filtering (unsolicited UDP on the WAN is
 *   forwarded to the home host, like a full-cone NAT or a DMZ host).
 * - `port-restricted`: endpoint-independent mapping; only replies to what the
 *   home host sent (conntrack) get in.
 * - `symmetric`: a random port per destination (`--random-fully`); only
 *   replies get in.
 * Every router drops unsolicited traffic to itself (INPUT), like a home router:
 * without that rule a peer's early ICE check creates a conntrack entry that
 * clashes with the SNAT mapping and even a cone NAT behaves symmetric.
 *
 * WAN emulation (`wan`, see wan/profiles.ts for the delay/RTT arithmetic):
 * this kernel has no sch_netem, so each router's `-t mangle POSTROUTING -o wan`
 * chain gets, in this order: the UDP counter rule (no target, so it counts
 * every packet it matches and lets it go on), `-m statistic --mode random
 * --probability P -j DROP` for loss, then `-j NFQUEUE` to wan/delay.c
 * (compiled on demand, run in the router's namespace: NFQUEUE is per
 * namespace), which accepts each packet after the delay. No `--queue-bypass`: if the delay
 * program is not running, packets are dropped, so a broken delay shows up as a
 * dead link instead of a fast, silently undelayed measurement. With `wan` set
 * (even `lan`), segmentation/receive offload is off on every lab veth so
 * loss and delay act on MTU-sized packets and profiles compare fairly.
 */
import { execFile, execFileSync, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'
import { delayProgramProblem, ensureDelayProgram } from './wan/delay-program.js'
import { wanProfile } from './wan/profiles.js'
import type { ChildProcess, SpawnOptions } from 'node:child_process'
import type { WanProfile, WanProfileName } from './wan/profiles.js'

export { WAN_PROFILES } from './wan/profiles.js'
export type { WanProfile, WanProfileName } from './wan/profiles.js'

const exec = promisify(execFile)

export type NatKind = 'cone' | 'port-restricted' | 'symmetric'
export const NAT_KINDS: readonly NatKind[] = ['cone', 'port-restricted', 'symmetric']

/** The public side's address in the default lab (`wanRange: 'benchmarking'`); a lab's own is `lab.pubIp`. */
export const PUB_IP = '198.18.0.1'
export const STUN_PORT = 3478
/** The public side's /24 per `wanRange`: pub is .1, the routers' WAN sides .11 (a) and .12 (b). */
const WAN_NET = { benchmarking: '198.18.0', global: '198.20.0' } as const
export type WanRange = keyof typeof WAN_NET
const LAN = { a: '198.19.1', b: '198.19.2' } as const

export type Side = 'a' | 'b'

export interface LabInit {
  natA: NatKind
  natB: NatKind
  /** Start coturn as a STUN server in `pub` (default true). */
  stun?: boolean
  /** Delay and loss on each router's WAN egress (default: none, offloads left on). */
  wan?: WanProfileName | WanProfile
  /** TCP congestion control on every route of every lab namespace (default: the kernel's). */
  tcpCongestion?: 'cubic' | 'bbr'
  /**
   * The public side's addresses: `benchmarking` (default, 198.18.0.0/24,
   * private to libp2p) or `global` (198.20.0.0/24, public to libp2p, so
   * AutoNAT v2 checks it). See the top of this file.
   */
  wanRange?: WanRange
}

/** What a router's delay program reported when it stopped. */
export interface DelayCounters {
  packets: number
  maxQueued: number
  /** Netlink receive-buffer overflows (packets lost between kernel and program). */
  enobufs: number
  /** Packets the kernel dropped because the queue was full. */
  queueDropped: number
  userDropped: number
  /** How late packets left on average and at worst, µs past their delay (CPU starvation shows here). */
  lateAvgUs: number
  lateMaxUs: number
  cpuMs: number
}

export interface Lab {
  readonly prefix: string
  readonly namespaces: { pub: string, ra: string, rb: string, ha: string, hb: string }
  /** pub's address (the node, STUN). */
  readonly pubIp: string
  readonly homeIp: Record<Side, string>
  readonly wanIp: Record<Side, string>
  /** The WAN profile in use, undefined without one. */
  readonly wan: WanProfile | undefined
  /** Spawns a process inside a namespace; it is killed by `destroy()`. */
  spawn(ns: string, command: string, args: string[], options?: SpawnOptions): ChildProcess
  /** Runs a command inside a namespace and returns its stdout. */
  run(ns: string, command: string, args: string[]): Promise<string>
  /** Processes spawned in the lab that are still running. */
  liveProcesses(): number
  /** UDP packets router `side` forwarded from its home host to the other router's WAN address. */
  udpToPeerRouter(side: Side): Promise<number>
  /** Packets router `side`'s loss rule dropped so far (0 without loss). */
  wanDrops(side: Side): Promise<number>
  /** Each router's delay program counters, filled in when it stops (by `destroy()`). */
  readonly delayCounters: Partial<Record<Side, DelayCounters>>
  destroy(): Promise<void>
}

export type LabSupport = { ok: true } | { ok: false, reason: string }

/** Whether a lab can be built here (with `wan`: one with a WAN profile), and why not. */
export function labSupport (options: { wan?: boolean } = {}): LabSupport {
  if (process.platform !== 'linux') return { ok: false, reason: 'the NAT lab needs Linux' }
  if (process.getuid?.() !== 0) return { ok: false, reason: 'the NAT lab needs root (network namespaces, iptables)' }
  const tools: Array<readonly [string, string]> = [['ip', 'iproute2'], ['iptables', 'iptables'], ['turnserver', 'coturn']]
  if (options.wan === true) {
    tools.push(['ethtool', 'ethtool'])
    const problem = delayProgramProblem()
    if (problem !== undefined) return { ok: false, reason: problem }
  }
  for (const [cmd, pkg] of tools) {
    try {
      execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' })
    } catch {
      return { ok: false, reason: `the NAT lab needs \`${cmd}\` (Debian package ${pkg}; npm test installs it as root)` }
    }
  }
  try {
    const probe = `chiral-probe-${randomBytes(3).toString('hex')}`
    execFileSync('ip', ['netns', 'add', probe], { stdio: 'ignore' })
    execFileSync('ip', ['netns', 'del', probe], { stdio: 'ignore' })
  } catch (err) {
    return { ok: false, reason: `cannot create network namespaces here: ${(err as Error).message.split('\n')[0] ?? ''}` }
  }
  return { ok: true }
}

const liveLabs = new Set<Lab>()
process.once('exit', () => {
  for (const lab of liveLabs) {
    for (const ns of Object.values(lab.namespaces)) {
      try { execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' }) } catch {}
    }
  }
})

/** Builds the lab. On any failure everything made so far is removed again. */
export async function createLab (init: LabInit): Promise<Lab> {
  const wan = init.wan === undefined ? undefined : wanProfile(init.wan)
  const net = WAN_NET[init.wanRange ?? 'benchmarking']
  const pubIp = `${net}.1`
  const wanIp = { a: `${net}.11`, b: `${net}.12` } as const
  const delayProgram = wan !== undefined && wan.delayMs > 0 ? ensureDelayProgram() : undefined
  const prefix = `chl${randomBytes(2).toString('hex')}`
  const namespaces = { pub: `${prefix}-pub`, ra: `${prefix}-ra`, rb: `${prefix}-rb`, ha: `${prefix}-ha`, hb: `${prefix}-hb` }
  const children = new Set<ChildProcess>()
  const made: string[] = []

  const ip = async (...args: string[]): Promise<void> => { await exec('ip', args, { timeout: 10_000 }) }
  const nsRun = async (ns: string, command: string, args: string[]): Promise<string> =>
    (await exec('ip', ['netns', 'exec', ns, command, ...args], { timeout: 15_000 })).stdout
  const ipt = async (ns: string, args: string): Promise<void> => { await nsRun(ns, 'iptables', ['-w', ...args.split(' ')]) }

  let destroyed = false
  const lab: Lab = {
    prefix,
    namespaces,
    pubIp,
    homeIp: { a: `${LAN.a}.2`, b: `${LAN.b}.2` },
    wanIp: { ...wanIp },
    wan,
    delayCounters: {},
    spawn (ns, command, args, options = {}) {
      const child = spawn('ip', ['netns', 'exec', ns, command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...options })
      children.add(child)
      child.once('exit', () => children.delete(child))
      return child
    },
    run: nsRun,
    liveProcesses: () => [...children].filter((c) => c.exitCode === null && c.signalCode === null).length,
    async udpToPeerRouter (side) {
      const other = side === 'a' ? wanIp.b : wanIp.a
      const out = await nsRun(side === 'a' ? namespaces.ra : namespaces.rb, 'iptables', ['-w', '-t', 'mangle', '-L', 'POSTROUTING', '-v', '-x', '-n'])
      const line = out.split('\n').find((l) => /\s(udp|17)\s/.test(l) && l.includes(other))
      return Number(line?.trim().split(/\s+/)[0] ?? 0)
    },
    async wanDrops (side) {
      const out = await nsRun(side === 'a' ? namespaces.ra : namespaces.rb, 'iptables', ['-w', '-t', 'mangle', '-L', 'POSTROUTING', '-v', '-x', '-n'])
      const line = out.split('\n').find((l) => /\sDROP\s/.test(l) && l.includes('statistic'))
      return Number(line?.trim().split(/\s+/)[0] ?? 0)
    },
    async destroy () {
      if (destroyed) return
      destroyed = true
      await Promise.all([...children].map(async (child) => stopChild(child)))
      for (const ns of made.reverse()) {
        try { await ip('netns', 'del', ns) } catch {}
      }
      liveLabs.delete(lab)
    }
  }
  liveLabs.add(lab)

  try {
    for (const ns of Object.values(namespaces)) {
      await ip('netns', 'add', ns)
      made.push(ns)
      await ip('-n', ns, 'link', 'set', 'lo', 'up')
    }
    // pub: a bridge the two routers' WAN sides plug into.
    await ip('-n', namespaces.pub, 'link', 'add', 'br0', 'type', 'bridge')
    await ip('-n', namespaces.pub, 'addr', 'add', `${pubIp}/24`, 'dev', 'br0')
    await ip('-n', namespaces.pub, 'link', 'set', 'br0', 'up')

    for (const side of ['a', 'b'] as const) {
      const router = side === 'a' ? namespaces.ra : namespaces.rb
      const home = side === 'a' ? namespaces.ha : namespaces.hb
      const kind = side === 'a' ? init.natA : init.natB
      const homeIp = lab.homeIp[side]
      // WAN: router <-> pub bridge
      await ip('-n', router, 'link', 'add', 'wan', 'type', 'veth', 'peer', 'name', `up-${side}`, 'netns', namespaces.pub)
      await ip('-n', namespaces.pub, 'link', 'set', `up-${side}`, 'master', 'br0')
      await ip('-n', namespaces.pub, 'link', 'set', `up-${side}`, 'up')
      await ip('-n', router, 'addr', 'add', `${wanIp[side]}/24`, 'dev', 'wan')
      await ip('-n', router, 'link', 'set', 'wan', 'up')
      await ip('-n', router, 'route', 'add', 'default', 'via', pubIp)
      // LAN: router <-> home host
      await ip('-n', router, 'link', 'add', 'lan', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', home)
      await ip('-n', router, 'addr', 'add', `${LAN[side]}.1/24`, 'dev', 'lan')
      await ip('-n', router, 'link', 'set', 'lan', 'up')
      await ip('-n', home, 'addr', 'add', `${homeIp}/24`, 'dev', 'eth0')
      await ip('-n', home, 'link', 'set', 'eth0', 'up')
      await ip('-n', home, 'route', 'add', 'default', 'via', `${LAN[side]}.1`)
      await nsRun(router, 'sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1'])
      // NAT
      await ipt(router, `-t nat -A POSTROUTING -o wan -j MASQUERADE${kind === 'symmetric' ? ' --random-fully' : ''}`)
      if (kind === 'cone') {
        await ipt(router, `-t nat -A PREROUTING -i wan -p udp -j DNAT --to-destination ${homeIp}`)
        await ipt(router, `-A FORWARD -i wan -p udp -d ${homeIp} -j ACCEPT`)
      }
      await ipt(router, '-A FORWARD -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT')
      await ipt(router, '-A FORWARD -i wan -j DROP')
      await ipt(router, '-A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT')
      await ipt(router, '-A INPUT -i wan -j DROP')
      // Counts UDP that went from this home straight to the other router (a direct path).
      // It has no target and comes first, so it counts before loss or delay.
      await ipt(router, `-t mangle -A POSTROUTING -o wan -p udp -d ${wanIp[side === 'a' ? 'b' : 'a']}`)
      if (wan !== undefined && wan.loss > 0) {
        await ipt(router, `-t mangle -A POSTROUTING -o wan -m statistic --mode random --probability ${wan.loss} -j DROP`)
      }
      if (delayProgram !== undefined && wan !== undefined) {
        const queue = side === 'a' ? 1 : 2
        await startDelay(lab, router, delayProgram, queue, wan.delayMs, (c) => { lab.delayCounters[side] = c })
        await ipt(router, `-t mangle -A POSTROUTING -o wan -j NFQUEUE --queue-num ${queue}`)
      }
    }

    if (wan !== undefined) {
      const veths: Array<[string, string]> = [
        [namespaces.ra, 'wan'], [namespaces.ra, 'lan'], [namespaces.rb, 'wan'], [namespaces.rb, 'lan'],
        [namespaces.pub, 'up-a'], [namespaces.pub, 'up-b'], [namespaces.pub, 'br0'], [namespaces.ha, 'eth0'], [namespaces.hb, 'eth0']
      ]
      for (const [ns, dev] of veths) await nsRun(ns, 'ethtool', ['-K', dev, 'gso', 'off', 'tso', 'off', 'gro', 'off'])
    }
    if (init.tcpCongestion !== undefined) {
      // Per route, not `sysctl net.ipv4.tcp_congestion_control`: outside the initial
      // namespace that sysctl only accepts what tcp_allowed_congestion_control lists
      // (here "reno bbr"), and that list is machine-wide. A route's congctl applies to
      // connections both made and accepted over it.
      for (const ns of Object.values(namespaces)) {
        const routes = (await nsRun(ns, 'ip', ['route', 'show'])).split('\n').filter(Boolean)
        for (const route of routes) {
          const spec = route.trim().split(/\s+/).filter((w) => w !== 'linkdown')
          await ip('-n', ns, 'route', 'replace', ...spec, 'congctl', init.tcpCongestion)
        }
      }
    }

    if (init.stun !== false) {
      const stun = lab.spawn(namespaces.pub, 'turnserver', [
        '--stun-only', '-L', pubIp, '--listening-port', String(STUN_PORT),
        '--no-cli', '--no-tls', '--no-dtls', '-n', '--no-stdout-log', '--log-file', '/dev/null', '--simple-log'
      ])
      await waitForUdpListener(nsRun, namespaces.pub, STUN_PORT, stun)
    }
  } catch (err) {
    await lab.destroy()
    throw err
  }
  return lab
}

/** Starts the delay program for NFQUEUE `queue` in `ns` and waits until it has bound the queue. */
async function startDelay (lab: Lab, ns: string, program: string, queue: number, delayMs: number, onCounters: (c: DelayCounters) => void): Promise<void> {
  const child = lab.spawn(ns, program, ['--queue', String(queue), '--delay-ms', String(delayMs)])
  let out = ''
  let err = ''
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString()
    const m = /packets=(\d+) max_queued=(\d+) enobufs=(\d+) queue_dropped=(\d+) user_dropped=(\d+) late_avg_us=(\d+) late_max_us=(\d+) cpu_ms=(\d+)/.exec(err)
    if (m !== null) {
      const [packets, maxQueued, enobufs, queueDropped, userDropped, lateAvgUs, lateMaxUs, cpuMs] = m.slice(1).map(Number) as [number, number, number, number, number, number, number, number]
      onCounters({ packets, maxQueued, enobufs, queueDropped, userDropped, lateAvgUs, lateMaxUs, cpuMs })
    }
  })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`delay program in ${ns} not ready in 5 s: ${err}`)) }, 5000)
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('ready\n')) { clearTimeout(timer); resolve() }
    })
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`delay program in ${ns} exited with ${String(code)}: ${err}`)) })
  })
}

async function waitForUdpListener (nsRun: Lab['run'], ns: string, port: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 10_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`STUN server exited with code ${child.exitCode}`)
    const out = await nsRun(ns, 'ss', ['-uln'])
    if (out.includes(`:${port} `)) return
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`nothing listened on UDP ${port} in ${ns}`)
}

async function stopChild (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  // 'close' comes once its output is read too (the delay program's counters).
  const closed = new Promise((resolve) => child.once('close', resolve))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
  await exited
  clearTimeout(timer)
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 1000))])
}

/** Namespaces whose names start with `prefix` (to assert nothing is left behind). */
export function namespacesWithPrefix (prefix: string): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
  return out.split('\n').map((l) => l.split(' ')[0] ?? '').filter((n) => n.startsWith(prefix))
}
