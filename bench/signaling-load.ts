/**
 * Signaling server capacity and latency.
 *
 * Starts the signaling server in its own process, connects and registers
 * `clients` WebSocket clients spread over child processes (5,000 each: a
 * process holds at most ~19,900 sockets here), then
 *   1. reports the server's RSS per connected client and extrapolates how many
 *      concurrent clients fit in 1 GiB of RSS;
 *   2. sends offers between 100 client pairs at a fixed total rate while all
 *      clients stay connected, and reports route latency p50/p99 (sender and
 *      receiver live in one process, so one clock times both ends).
 *
 *   pnpm bench bench/signaling-load.ts [clients=10000] [rate=1000 msg/s] [seconds=10]
 *
 * One server process tops out near 19,900 clients (the per-process open-file
 * limit), whatever its memory.
 */
import { fork } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { WebSocket } from 'ws'
import type { ChildProcess } from 'node:child_process'

const PER_PROCESS = Number(process.env.CLIENTS_PER_PROCESS ?? 5000)
const PAIRS = 100
const self = fileURLToPath(import.meta.url)

type Msg =
  | { kind: 'port', port: number }
  | { kind: 'memory', rss: number, heapUsed: number, clients: number, registered: number }
  | { kind: 'ready', connected: number, failed: number }
  | { kind: 'latency', samples: number[], sent: number, lost: number }

function child (role: string, args: string[]): ChildProcess {
  return fork(self, [role, ...args], {
    execArgv: ['--conditions=source', '--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc']
  })
}

async function next<T extends Msg['kind']> (proc: ChildProcess, kind: T): Promise<Extract<Msg, { kind: T }>> {
  for (;;) {
    const [m] = await once(proc, 'message') as [Msg]
    if (m.kind === kind) return m as Extract<Msg, { kind: T }>
  }
}

// ── server process ──────────────────────────────────────────────────────────
async function serverMain (): Promise<void> {
  const { createSignalingServer } = await import('@chiral/signaling')
  const server = createSignalingServer({ port: 0, host: '127.0.0.1', maxClients: 19_500 })
  await server.start()
  process.send!({ kind: 'port', port: server.address()!.port })
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'memory?') {
      ;(globalThis as { gc?: () => void }).gc?.()
      const s = server.stats()
      process.send!({ kind: 'memory', rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed, clients: s.clients, registered: s.registered })
    } else if (m.kind === 'stop') {
      void server.stop().then(() => process.exit(0))
    }
  })
}

// ── client process ──────────────────────────────────────────────────────────
/** Rooms of 20: every join sends a delta to each member, so one huge room is O(n²). */
function roomOf (id: string): string {
  const [prefix, n] = id.split('-') as [string, string]
  return `${prefix}-r${Math.floor(Number(n) / 20)}`
}

async function clientsMain (url: string, prefix: string, count: number): Promise<void> {
  const sockets: Array<{ ws: WebSocket, id: string }> = []
  let failed = 0
  const open = async (id: string): Promise<WebSocket | undefined> => {
    const ws = new WebSocket(url, { perMessageDeflate: false })
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error('timeout')) }, 30_000)
        ws.on('message', (data) => {
          const m = JSON.parse(data.toString()) as { type: string }
          if (m.type === 'challenge') ws.send(JSON.stringify({ type: 'register', clientId: id, room: roomOf(id) }))
          else if (m.type === 'peers') { clearTimeout(timer); resolve() } else if (m.type === 'error') { clearTimeout(timer); reject(new Error(JSON.stringify(m))) }
        })
        ws.on('error', (err) => { clearTimeout(timer); reject(err) })
      })
      ws.removeAllListeners('message')
      return ws
    } catch {
      failed++
      ws.terminate()
      return undefined
    }
  }
  for (let i = 0; i < count; i += 250) {
    const batch = await Promise.all(Array.from({ length: Math.min(250, count - i) }, async (_, j) => open(`${prefix}-${i + j}`)))
    batch.forEach((ws, j) => { if (ws !== undefined) sockets.push({ ws, id: `${prefix}-${i + j}` }) })
  }
  process.send!({ kind: 'ready', connected: sockets.length, failed })
  process.on('message', (m: { kind: string, rate?: number, seconds?: number }) => {
    if (m.kind === 'latency?') void latency(sockets, m.rate!, m.seconds!)
    else if (m.kind === 'stop') {
      for (const { ws } of sockets) ws.terminate()
      process.exit(0)
    }
  })
}

/** Pairs sockets 2k → 2k+1 and sends `rate` offers/s in total for `seconds`. */
async function latency (sockets: Array<{ ws: WebSocket, id: string }>, rate: number, seconds: number): Promise<void> {
  const pairs = Math.min(PAIRS, Math.floor(sockets.length / 2))
  const samples: number[] = []
  for (let p = 0; p < pairs; p++) {
    sockets[2 * p + 1]!.ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string, sdp?: string }
      if (m.type === 'offer') samples.push(performance.now() - Number(m.sdp))
    })
  }
  const total = Math.floor(rate * seconds)
  const start = performance.now()
  let sent = 0
  while (sent < total) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate)
    for (; sent < Math.min(due, total); sent++) {
      const p = sent % pairs
      const to = sockets[2 * p + 1]!.id
      sockets[2 * p]!.ws.send(JSON.stringify({ type: 'offer', to, sdp: String(performance.now()) }))
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await new Promise((resolve) => setTimeout(resolve, 1000))
  process.send!({ kind: 'latency', samples, sent, lost: sent - samples.length })
}

// ── coordinator ─────────────────────────────────────────────────────────────
function percentile (sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

async function main (): Promise<void> {
  const clients = Number(process.argv[2] ?? 10_000)
  const rate = Number(process.argv[3] ?? 1000)
  const seconds = Number(process.argv[4] ?? 10)
  const server = child('server', [])
  const { port } = await next(server, 'port')
  const url = `ws://127.0.0.1:${port}`
  server.send({ kind: 'memory?' })
  const base = await next(server, 'memory')

  // Client processes connect one after the other; the server's RSS after each
  // step gives the marginal cost of a client (start-up memory cancels out).
  const procs: ChildProcess[] = []
  const steps: Array<Extract<Msg, { kind: 'memory' }>> = [base]
  const t0 = performance.now()
  let connected = 0
  let failed = 0
  for (let i = 0, n = 0; n < clients; i++, n += PER_PROCESS) {
    const count = Math.min(PER_PROCESS, clients - n)
    const proc = child('clients', [url, `c${i}`, String(count)])
    procs.push(proc)
    const r = await next(proc, 'ready')
    connected += r.connected
    failed += r.failed
    server.send({ kind: 'memory?' })
    steps.push(await next(server, 'memory'))
  }
  const connectSeconds = (performance.now() - t0) / 1000
  const loaded = steps[steps.length - 1]!
  const from = steps.length > 2 ? steps[1]! : base

  procs[0]!.send({ kind: 'latency?', rate, seconds })
  const lat = await next(procs[0]!, 'latency')
  const sorted = [...lat.samples].sort((a, b) => a - b)

  const perClient = (loaded.rss - from.rss) / Math.max(1, loaded.registered - from.registered)
  const perGiB = Math.floor((1024 ** 3 - base.rss) / perClient)
  const result = {
    clients,
    connected,
    failed,
    registered: loaded.registered,
    connectSeconds: Number(connectSeconds.toFixed(1)),
    serverRssBaseMiB: Number((base.rss / 2 ** 20).toFixed(1)),
    serverRssLoadedMiB: Number((loaded.rss / 2 ** 20).toFixed(1)),
    rssPerClientKiB: Number((perClient / 1024).toFixed(2)),
    clientsPer1GiBRss: perGiB,
    rssSteps: steps.map((m) => ({ registered: m.registered, rssMiB: Number((m.rss / 2 ** 20).toFixed(1)) })),
    latencyRate: rate,
    latencySent: lat.sent,
    latencyLost: lat.lost,
    latencyP50ms: Number(percentile(sorted, 0.5).toFixed(3)),
    latencyP99ms: Number(percentile(sorted, 0.99).toFixed(3)),
    latencyMaxMs: Number((sorted[sorted.length - 1] ?? NaN).toFixed(3))
  }
  console.table([
    { measure: 'clients connected + registered', value: `${loaded.registered} / ${clients} (${failed} failed) in ${result.connectSeconds} s` },
    { measure: 'server RSS idle → each step', value: steps.map((m) => `${(m.rss / 2 ** 20).toFixed(0)} MiB @ ${m.registered}`).join(' → ') },
    { measure: 'server RSS per client (marginal)', value: `${result.rssPerClientKiB} KiB` },
    { measure: 'clients in 1 GiB RSS (extrapolated)', value: `${perGiB} (one process stops near 19,900: open-file limit)` },
    { measure: `route latency at ${rate} msg/s (${lat.sent} sent, ${lat.lost} lost)`, value: `p50 ${result.latencyP50ms} ms, p99 ${result.latencyP99ms} ms, max ${result.latencyMaxMs} ms` }
  ])
  console.log(JSON.stringify(result))
  for (const p of procs) p.send({ kind: 'stop' })
  server.send({ kind: 'stop' })
  await Promise.all([server, ...procs].map(async (p) => once(p, 'exit')))
}

const role = process.argv[2]
if (role === 'server') await serverMain()
else if (role === 'clients') await clientsMain(process.argv[3]!, process.argv[4]!, Number(process.argv[5]))
else await main()
