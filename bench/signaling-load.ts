/**
 * Signaling server memory, latency and capacity, in one run of three phases.
 * Every server runs in its own process; clients are spread over child
 * processes of at most 5,000 each (a process holds at most ~19,900 sockets
 * here: the open-file limit).
 *
 *   1. bare: a bare `ws` router (register by id, forward `{to}` frames to that
 *      socket; no validation, no auth, no rate limit, no rooms) holding
 *      `clients` clients: its RSS per client, and its route latency for
 *      reference.
 *   2. one: one signaling server (`createSignalingServer`) holding the same
 *      `clients`: RSS per client (goal ≤ 1.5× the bare router's) and route
 *      latency p50/p99 at `rate` msg/s with all of them connected (goal p99
 *      < 20 ms); then pushed to `capacity` clients: how many it holds.
 *   3. two: two signaling servers sharing one redis-server (started here on
 *      a free loopback port, stopped after; `redisCluster`), pushed to
 *      2 × `capacity` clients, every client process alternating between the
 *      instances: how many they hold (goal ≥ 1.8× one instance) and route
 *      latency between clients of different instances at `rate` msg/s (goal
 *      p99 < 20 ms).
 *
 *   pnpm bench bench/signaling-load.ts [clients=18000] [rate=2000 msg/s] [seconds=10] [capacity=21000]
 *
 * The servers set no `maxClients` below what the machine allows, so what one
 * process holds is decided by its open-file limit (`ulimit -n`). Latency is
 * timed by one clock: sender and receiver live in one client process. Server
 * RSS is read from /proc (Linux) after a full GC, once per client process;
 * per client it is marginal (growth from the first client process to the
 * last, so the heap's warm-up, which a fresh process pays and one that
 * loaded more code at start-up has already paid, is left out) and all-in
 * ((loaded − idle) ÷ registered). Clients beyond ~28,000 per server port run
 * out of loopback ephemeral ports.
 */
import { fork } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { connect } from 'node:net'
import { fileURLToPath } from 'node:url'
import { next, PAIRS, PER_PROCESS } from './signaling-load/ipc.js'
import { printReport } from './support/report.js'
import type { ChildProcess } from 'node:child_process'
import type { LatencyResult, Msg, ServerStats } from './signaling-load/ipc.js'

const SCRIPTS = {
  server: fileURLToPath(new URL('./signaling-load/server-process.ts', import.meta.url)),
  clients: fileURLToPath(new URL('./signaling-load/client-process.ts', import.meta.url))
}
/** Every process this one started, so a failed run leaves none behind. */
const started: ChildProcess[] = []

function child (script: keyof typeof SCRIPTS, args: string[]): ChildProcess {
  const proc = fork(SCRIPTS[script], args, {
    execArgv: ['--conditions=source', '--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
  started.push(proc)
  return proc
}

// ── coordinator ─────────────────────────────────────────────────────────────
interface Server { proc: ChildProcess, url: string }
interface Sample extends ServerStats { rss: number }
interface Fleet { procs: ChildProcess[], connected: number, failed: number, perUrl: number[], seconds: number }

function percentile (sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** Resident set size of a process, bytes (NaN where /proc is missing). */
function rssOf (pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]
    return kb === undefined ? NaN : Number(kb) * 1024
  } catch {
    return NaN
  }
}

/** This process's open-file limit (children inherit it); NaN where /proc is missing. */
function openFileLimit (): number {
  try {
    return Number(/^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'))?.[1] ?? NaN)
  } catch {
    return NaN
  }
}

async function startServer (role: 'signaling' | 'bare', args: string[]): Promise<Server> {
  const proc = child('server', [role, ...args])
  const { port } = await next(proc, 'port')
  return { proc, url: `ws://127.0.0.1:${port}` }
}

async function sample (server: Server): Promise<Sample> {
  server.proc.send({ kind: 'stats?' })
  const { kind: _, ...stats } = await next(server.proc, 'stats')
  return { ...stats, rss: rssOf(server.proc.pid!) }
}

/** Client processes one after the other, `total` clients spread over `servers`; `after` runs once each is ready. */
async function connectClients (servers: Server[], total: number, tag: string, after?: () => Promise<void>): Promise<Fleet> {
  const fleet: Fleet = { procs: [], connected: 0, failed: 0, perUrl: servers.map(() => 0), seconds: 0 }
  const t0 = performance.now()
  for (let i = 0, n = 0; n < total; i++, n += PER_PROCESS) {
    const proc = child('clients', [servers.map((s) => s.url).join(','), `${tag}${i}`, String(Math.min(PER_PROCESS, total - n))])
    fleet.procs.push(proc)
    const r = await next(proc, 'ready')
    fleet.connected += r.connected
    fleet.failed += r.failed
    r.perUrl.forEach((x, u) => { fleet.perUrl[u]! += x })
    await after?.()
  }
  fleet.seconds = (performance.now() - t0) / 1000
  return fleet
}

async function measureLatency (fleet: Fleet, rate: number, seconds: number): Promise<Record<string, number>> {
  fleet.procs[0]!.send({ kind: 'latency?', rate, seconds })
  const lat = await next(fleet.procs[0]!, 'latency')
  const sorted = [...lat.samples].sort((a, b) => a - b)
  return {
    rate,
    pairs: lat.pairs,
    crossInstancePairs: lat.crossInstance,
    sent: lat.sent,
    lost: lat.lost,
    errors: lat.errors,
    p50ms: Number(percentile(sorted, 0.5).toFixed(3)),
    p99ms: Number(percentile(sorted, 0.99).toFixed(3)),
    maxMs: Number((sorted[sorted.length - 1] ?? NaN).toFixed(3))
  }
}

/** Sends `stop` and waits for the exit (SIGKILL after 20 s). */
async function stopAll (procs: ChildProcess[]): Promise<void> {
  await Promise.all(procs.map(async (p) => {
    if (p.exitCode !== null || p.signalCode !== null) return
    const exited = new Promise<void>((resolve) => { p.once('exit', () => { resolve() }) })
    const timer = setTimeout(() => p.kill('SIGKILL'), 20_000)
    try { p.send({ kind: 'stop' }) } catch {}
    await exited
    clearTimeout(timer)
  }))
}

/** One command to a Redis server (RESP); the reply as text (integer, status or bulk string). */
async function redisCommand (port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1')
    let buf = Buffer.alloc(0)
    socket.setTimeout(5000, () => { socket.destroy(); reject(new Error('redis did not answer')) })
    socket.once('error', reject)
    socket.once('connect', () => { socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`) })
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d])
      const eol = buf.indexOf('\r\n')
      if (eol < 0) return
      const head = buf.subarray(0, eol).toString()
      if (head.startsWith('$')) {
        const len = Number(head.slice(1))
        if (len >= 0 && buf.length < eol + 2 + len + 2) return
        socket.destroy()
        resolve(len < 0 ? '' : buf.subarray(eol + 2, eol + 2 + len).toString())
        return
      }
      socket.destroy()
      if (head.startsWith('-')) reject(new Error(head.slice(1)))
      else resolve(head.slice(1))
    })
  })
}

const MiB = (bytes: number): number => Number((bytes / 2 ** 20).toFixed(1))
const KiB = (bytes: number): number => Number((bytes / 1024).toFixed(2))
const n = (x: number): string => Number.isFinite(x) ? x.toLocaleString('en-US') : '–'
const f = (x: number, digits = 2): string => Number.isFinite(x) ? x.toFixed(digits) : '–'

async function main (): Promise<void> {
  const clients = Number(process.argv[2] ?? 18_000)
  const rate = Number(process.argv[3] ?? 2000)
  const seconds = Number(process.argv[4] ?? 10)
  const capacity = Math.max(clients, Number(process.argv[5] ?? 21_000))
  const { TestRedis, findRedisServer } = await import('../test/cluster/support/redis-server.js')
  let redis: Awaited<ReturnType<typeof TestRedis.start>> | undefined
  try {
    // 1. The bare router.
    process.stderr.write(`[signaling-load] bare ws router, ${clients} clients\n`)
    const bare = await startServer('bare', [])
    const bareIdle = await sample(bare)
    const bareSteps: Sample[] = [bareIdle]
    const bareFleet = await connectClients([bare], clients, 'b', async () => { bareSteps.push(await sample(bare)) })
    const bareLoaded = bareSteps[bareSteps.length - 1]!
    const bareLatency = await measureLatency(bareFleet, rate, seconds)
    await stopAll(bareFleet.procs)
    await stopAll([bare.proc])

    // 2. One signaling server: the same clients, then as many as it holds.
    process.stderr.write(`[signaling-load] one signaling server, ${clients} clients, then ${capacity}\n`)
    const one = await startServer('signaling', [])
    const oneIdle = await sample(one)
    const oneSteps: Sample[] = [oneIdle]
    const oneFleet = await connectClients([one], clients, 's', async () => { oneSteps.push(await sample(one)) })
    const oneLoaded = oneSteps[oneSteps.length - 1]!
    const oneLatency = await measureLatency(oneFleet, rate, seconds)
    const oneMore = await connectClients([one], capacity - clients, 't')
    const oneFull = await sample(one)
    await stopAll([...oneFleet.procs, ...oneMore.procs])
    await stopAll([one.proc])

    // 3. Two signaling servers sharing one Redis.
    process.stderr.write(`[signaling-load] two signaling servers + redis, ${2 * capacity} clients\n`)
    const found = findRedisServer()
    if (!found.ok) throw new Error(found.reason)
    redis = await TestRedis.start(found.path)
    const ids = ['bench-a', 'bench-b']
    const two = [await startServer('signaling', [redis.url, ids[0]!]), await startServer('signaling', [redis.url, ids[1]!])]
    const twoIdle = await Promise.all(two.map(sample))
    const twoSteps: Sample[][] = [twoIdle]
    const twoFleet = await connectClients(two, 2 * capacity, 'm', async () => { twoSteps.push(await Promise.all(two.map(sample))) })
    const twoFull = twoSteps[twoSteps.length - 1]!
    const inRedis = await Promise.all(ids.map(async (id) => Number(await redisCommand(redis!.port, 'SCARD', `chiral:instance:${id}`))))
    const twoLatency = await measureLatency(twoFleet, rate, seconds)
    const redisRss = Number(/used_memory_rss:(\d+)/.exec(await redisCommand(redis.port, 'INFO', 'memory'))?.[1] ?? NaN)
    await stopAll(twoFleet.procs)
    await stopAll(two.map((s) => s.proc))
    await redis.destroy()
    redis = undefined

    // ── report ──
    // Summed over the instances of a step.
    const sum = (step: Sample[]): Sample => step.reduce((a, s) => ({ ...a, rss: a.rss + s.rss, registered: a.registered + s.registered }), { registered: 0, clients: 0, heapUsed: 0, rss: 0 })
    const allIn = (steps: Sample[][]): number => {
      const [idle, loaded] = [sum(steps[0]!), sum(steps[steps.length - 1]!)]
      return (loaded.rss - idle.rss) / Math.max(1, loaded.registered)
    }
    // From the first client process on: the heap's warm-up, which a fresh process pays and a
    // process that loaded more code at start-up has already paid, is left out.
    const marginal = (steps: Sample[][]): number => {
      if (steps.length <= 2) return allIn(steps)
      const [from, to] = [sum(steps[1]!), sum(steps[steps.length - 1]!)]
      return (to.rss - from.rss) / Math.max(1, to.registered - from.registered)
    }
    const perStep = (steps: Sample[]): Sample[][] => steps.map((s) => [s])
    const bareRss = marginal(perStep(bareSteps))
    const oneRss = marginal(perStep(oneSteps))
    const rssRatio = oneRss / bareRss
    const allInRatio = allIn(perStep(oneSteps)) / allIn(perStep(bareSteps))
    const totalRatio = oneLoaded.rss / bareLoaded.rss
    const twoRegistered = twoFull.reduce((a, s) => a + s.registered, 0)
    const twoRss = marginal(twoSteps)
    const holdRatio = twoRegistered / oneFull.registered
    const clusterStates = twoFull.map((s) => s.cluster ?? '?')
    const lat = (l: Record<string, number>): string => `${f(l.p50ms!)} / ${f(l.p99ms!)} / ${f(l.maxMs!, 1)} (${n(l.sent!)} sent, ${n(l.lost!)} lost${l.errors! > 0 ? `, ${n(l.errors!)} errors` : ''})`
    const rssCell = (idle: Sample[], loaded: Sample[]): string => idle.map((s, i) => `${MiB(s.rss).toFixed(0)} → ${MiB(loaded[i]!.rss).toFixed(0)}`).join(', ')

    const table = [
      `| setup | clients tried | registered | connect + register, s | server RSS idle → loaded, MiB | RSS per client, KiB: marginal (all-in) | route p50 / p99 / max, ms at ${n(rate)} msg/s |`,
      '| --- | --- | --- | --- | --- | --- | --- |',
      `| bare \`ws\` router, 1 process | ${n(clients)} | ${n(bareLoaded.registered)} | ${f(bareFleet.seconds, 1)} | ${rssCell([bareIdle], [bareLoaded])} | ${f(KiB(bareRss))} (${f(KiB(allIn(perStep(bareSteps))))}) | ${lat(bareLatency)} |`,
      `| signaling server, 1 instance | ${n(clients)} | ${n(oneLoaded.registered)} | ${f(oneFleet.seconds, 1)} | ${rssCell([oneIdle], [oneLoaded])} | ${f(KiB(oneRss))} (${f(KiB(allIn(perStep(oneSteps))))}) | ${lat(oneLatency)} |`,
      `| signaling server, 1 instance, pushed on | ${n(capacity)} | ${n(oneFull.registered)} | +${f(oneMore.seconds, 1)} | ${rssCell([oneIdle], [oneFull])} | ${f(KiB(marginal(perStep([...oneSteps, oneFull]))))} (${f(KiB(allIn(perStep([oneIdle, oneFull]))))}) | – |`,
      `| 2 signaling servers + 1 Redis | ${n(2 * capacity)} | ${n(twoRegistered)} (${twoFull.map((s) => n(s.registered)).join(' + ')}) | ${f(twoFleet.seconds, 1)} | ${rssCell(twoIdle, twoFull)} | ${f(KiB(twoRss))} (${f(KiB(allIn(twoSteps)))}) | ${lat(twoLatency)}, across instances |`
    ]
    const goals: string[] = []
    const goal = (what: string, ok: boolean, detail: string): void => { goals.push(`- ${ok ? '**met**' : '**not met**'}: ${what} — ${detail}`) }
    goal(`signaling server RSS per client ≤ 1.5× the bare \`ws\` router's, ${n(clients)} clients`, rssRatio <= 1.5 && oneLoaded.registered === clients && bareLoaded.registered === clients,
      `${f(KiB(oneRss))} KiB vs ${f(KiB(bareRss))} KiB = ${f(rssRatio)}× (all-in ${f(allInRatio)}×; whole process: ${MiB(oneLoaded.rss).toFixed(0)} vs ${MiB(bareLoaded.rss).toFixed(0)} MiB = ${f(totalRatio)}×)`)
    goal(`route p99 < 20 ms at ${n(rate)} msg/s, ${n(oneLoaded.registered)} clients connected, nothing lost`, oneLatency.p99ms! < 20 && oneLatency.lost === 0,
      `p99 ${f(oneLatency.p99ms!)} ms, ${n(oneLatency.lost!)} of ${n(oneLatency.sent!)} lost`)
    goal('2 instances + Redis hold ≥ 1.8× the clients of 1 instance', holdRatio >= 1.8 && clusterStates.every((s) => s === 'ready'),
      `${n(twoRegistered)} vs ${n(oneFull.registered)} = ${f(holdRatio)}× (Redis lists ${inRedis.map(n).join(' + ')}; cluster ${clusterStates.join(', ')})`)
    goal(`route p99 < 20 ms across instances at ${n(rate)} msg/s, all ${n(twoRegistered)} connected, nothing lost`, twoLatency.p99ms! < 20 && twoLatency.lost === 0 && twoLatency.crossInstancePairs === twoLatency.pairs,
      `p99 ${f(twoLatency.p99ms!)} ms, ${n(twoLatency.lost!)} of ${n(twoLatency.sent!)} lost, ${twoLatency.crossInstancePairs} of ${twoLatency.pairs} pairs across instances`)

    printReport('signaling-load', {
      intro: [
        `Every server in its own process on 127.0.0.1, clients in processes of ≤ ${n(PER_PROCESS)} (rooms of 20). The servers set no client cap: the open-file limit (${n(openFileLimit())} per process here) decides what one holds.`,
        `Server RSS after a full GC. Per client, marginal: its growth from the first client process (${n(PER_PROCESS)} clients) to the last, ÷ the clients added; all-in: (loaded − idle) ÷ registered. Route latency: ${PAIRS} sender → receiver pairs in one client process (one clock), ${n(rate)} offers/s for ${seconds} s.`,
        `The bare router registers by id and forwards \`{to}\` frames as they are (no validation, auth, rate limit or rooms). Redis RSS at the end: ${f(MiB(redisRss), 1)} MiB.`
      ],
      table,
      goals
    }, {
      clients,
      capacity,
      rate,
      seconds,
      bare: { idle: bareIdle, loaded: bareLoaded, steps: bareSteps.map((s) => ({ registered: s.registered, rssMiB: MiB(s.rss) })), rssPerClientKiB: KiB(bareRss), rssPerClientAllInKiB: KiB(allIn(perStep(bareSteps))), connectSeconds: Number(bareFleet.seconds.toFixed(1)), failed: bareFleet.failed, latency: bareLatency },
      one: {
        idle: oneIdle,
        loaded: oneLoaded,
        steps: oneSteps.map((s) => ({ registered: s.registered, rssMiB: MiB(s.rss) })),
        rssPerClientKiB: KiB(oneRss),
        rssPerClientAllInKiB: KiB(allIn(perStep(oneSteps))),
        connectSeconds: Number(oneFleet.seconds.toFixed(1)),
        failed: oneFleet.failed,
        latency: oneLatency,
        full: oneFull,
        fullFailed: oneFleet.failed + oneMore.failed
      },
      two: { idle: twoIdle, full: twoFull, steps: twoSteps.map((step) => step.map((s) => ({ registered: s.registered, rssMiB: MiB(s.rss) }))), registered: twoRegistered, inRedis, perUrl: twoFleet.perUrl, failed: twoFleet.failed, rssPerClientKiB: KiB(twoRss), connectSeconds: Number(twoFleet.seconds.toFixed(1)), latency: twoLatency, redisRssMiB: MiB(redisRss) },
      rssRatio: Number(rssRatio.toFixed(3)),
      allInRssRatio: Number(allInRatio.toFixed(3)),
      wholeProcessRssRatio: Number(totalRatio.toFixed(3)),
      holdRatio: Number(holdRatio.toFixed(3))
    })
  } finally {
    for (const p of started) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL')
    await redis?.destroy()
  }
}

await main()
