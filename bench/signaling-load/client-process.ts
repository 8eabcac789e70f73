/**
 * A client process of the signaling benchmark: `<urls> <prefix> <count>`
 * connects and registers `count` clients spread over the server URLs, then
 * on request exchanges offers between pairs and times them (sender and
 * receiver in this process: one clock).
 */
import { WebSocket } from 'ws'
import { PAIRS } from './ipc.js'
import type { LatencyResult } from './ipc.js'

interface Client { ws: WebSocket, id: string, url: number }

/** Rooms of 20: every join sends a delta to each member, so one huge room is O(n²). */
function roomOf (id: string): string {
  const [prefix, n] = id.split('-') as [string, string]
  return `${prefix}-r${Math.floor(Number(n) / 20)}`
}

/** Connects and registers `count` clients, client j to `urls[j % urls.length]`. */
async function clientsMain (urls: string[], prefix: string, count: number): Promise<void> {
  const sockets: Client[] = []
  let failed = 0
  const open = async (id: string, url: number): Promise<Client | undefined> => {
    const ws = new WebSocket(urls[url]!, { perMessageDeflate: false })
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error('timeout')) }, 30_000)
        const fail = (err: Error): void => { clearTimeout(timer); reject(err) }
        ws.on('message', (data) => {
          const m = JSON.parse(data.toString()) as { type: string }
          if (m.type === 'challenge') ws.send(JSON.stringify({ type: 'register', clientId: id, room: roomOf(id) }))
          else if (m.type === 'peers') { clearTimeout(timer); resolve() } else if (m.type === 'error') fail(new Error(JSON.stringify(m)))
        })
        ws.on('error', fail)
        ws.on('close', () => { fail(new Error('closed')) })
      })
      ws.removeAllListeners('message')
      ws.removeAllListeners('close')
      return { ws, id, url }
    } catch {
      failed++
      ws.removeAllListeners()
      ws.on('error', () => {})
      ws.terminate()
      return undefined
    }
  }
  for (let i = 0; i < count; i += 250) {
    const batch = await Promise.all(Array.from({ length: Math.min(250, count - i) }, async (_, j) => open(`${prefix}-${i + j}`, (i + j) % urls.length)))
    for (const c of batch) if (c !== undefined) sockets.push(c)
  }
  const perUrl = urls.map((_, u) => sockets.filter((c) => c.url === u).length)
  process.send!({ kind: 'ready', connected: sockets.length, failed, perUrl })
  process.on('message', (m: { kind: string, rate?: number, seconds?: number }) => {
    if (m.kind === 'latency?') void latency(sockets, m.rate!, m.seconds!)
    else if (m.kind === 'stop') {
      for (const { ws } of sockets) ws.terminate()
      process.exit(0)
    }
  })
}

/**
 * Up to 100 sender → receiver pairs, both ends on different servers when
 * there are several (directions alternating), and `rate` offers/s in total
 * for `seconds`.
 */
async function latency (sockets: Client[], rate: number, seconds: number): Promise<void> {
  const byUrl = new Map<number, Client[]>()
  for (const c of sockets) {
    const group = byUrl.get(c.url)
    if (group === undefined) byUrl.set(c.url, [c])
    else group.push(c)
  }
  const groups = [...byUrl.values()]
  const pairs: Array<[Client, Client]> = []
  if (groups.length >= 2) {
    const [a, b] = groups as [Client[], Client[]]
    for (let k = 0; k < Math.min(PAIRS, a.length, b.length); k++) pairs.push(k % 2 === 0 ? [a[k]!, b[k]!] : [b[k]!, a[k]!])
  } else {
    const a = groups[0] ?? []
    for (let k = 0; k < Math.min(PAIRS, Math.floor(a.length / 2)); k++) pairs.push([a[2 * k]!, a[2 * k + 1]!])
  }
  const samples: number[] = []
  let errors = 0
  for (const [sender, receiver] of pairs) {
    receiver.ws.on('message', (data) => {
      const m = JSON.parse(data.toString()) as { type: string, sdp?: string }
      if (m.type === 'offer') samples.push(performance.now() - Number(m.sdp))
    })
    sender.ws.on('message', (data) => {
      if ((JSON.parse(data.toString()) as { type: string }).type === 'error') errors++
    })
  }
  const total = pairs.length === 0 ? 0 : Math.floor(rate * seconds)
  const start = performance.now()
  let sent = 0
  while (sent < total) {
    const due = Math.floor(((performance.now() - start) / 1000) * rate)
    for (; sent < Math.min(due, total); sent++) {
      const [sender, receiver] = pairs[sent % pairs.length]!
      sender.ws.send(JSON.stringify({ type: 'offer', to: receiver.id, sdp: String(performance.now()) }))
    }
    await new Promise((resolve) => setTimeout(resolve, 1))
  }
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const crossInstance = pairs.filter(([s, r]) => s.url !== r.url).length
  process.send!({ kind: 'latency', samples, sent, lost: sent - samples.length, errors, pairs: pairs.length, crossInstance })
}

await clientsMain(process.argv[2]!.split(','), process.argv[3]!, Number(process.argv[4]))
