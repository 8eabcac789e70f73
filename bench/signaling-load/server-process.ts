/**
 * A server process of the signaling benchmark: `signaling [redisUrl] [instanceId]`
 * (the real signaling server, optionally sharing a Redis) or `bare` (a bare
 * `ws` router, the baseline). Answers `stats?` and `stop` over IPC.
 */
import { getHeapStatistics } from 'node:v8'
import { WebSocketServer } from 'ws'
import type { WebSocket } from 'ws'
import { NO_CAP } from './ipc.js'
import type { ServerStats } from './ipc.js'

/** Answers `stats?` (after a full GC) and `stop` over IPC. */
function serve (port: number, stats: () => Omit<ServerStats, 'heapUsed'>, stop: () => Promise<void>): void {
  process.send!({ kind: 'port', port })
  process.on('message', (m: { kind: string }) => {
    if (m.kind === 'stats?') {
      ;(globalThis as { gc?: () => void }).gc?.()
      // Not process.memoryUsage(): reading RSS opens a file, which fails at the open-file limit.
      process.send!({ kind: 'stats', ...stats(), heapUsed: getHeapStatistics().used_heap_size })
    } else if (m.kind === 'stop') {
      void stop().finally(() => process.exit(0))
    }
  })
}

async function signalingMain (redisUrl: string | undefined, instanceId: string | undefined): Promise<void> {
  const { createSignalingServer, redisCluster } = await import('@chiral/signaling')
  const server = createSignalingServer({
    port: 0,
    host: '127.0.0.1',
    maxClients: NO_CAP,
    ...(redisUrl === undefined ? {} : { cluster: redisCluster({ url: redisUrl, ...(instanceId === undefined ? {} : { instanceId }) }) })
  })
  await server.start()
  serve(server.address()!.port, () => {
    const s = server.stats()
    const c = server.clusterStatus()
    return { registered: s.registered, clients: s.clients, ...(c.mode === 'redis' ? { cluster: c.state } : {}) }
  }, async () => server.stop())
}

/** The baseline: a bare `ws` router. Registers by id and forwards `{to}` frames as they are. */
async function bareMain (): Promise<void> {
  const byId = new Map<string, WebSocket>()
  let clients = 0
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', perMessageDeflate: false, clientTracking: false })
  await new Promise<void>((resolve) => { wss.once('listening', resolve) })
  wss.on('connection', (ws) => {
    clients++
    let id: string | undefined
    // The same opening as the signaling server, so one client serves both.
    ws.send('{"type":"challenge"}')
    ws.on('message', (data) => {
      const text = data.toString()
      let m: { type?: string, clientId?: string, to?: string }
      try { m = JSON.parse(text) as typeof m } catch { return }
      if (m.type === 'register' && typeof m.clientId === 'string') {
        id = m.clientId
        byId.set(id, ws)
        ws.send('{"type":"peers","peers":[]}')
      } else if (typeof m.to === 'string') {
        byId.get(m.to)?.send(text)
      }
    })
    ws.on('error', () => {})
    ws.on('close', () => {
      clients--
      if (id !== undefined && byId.get(id) === ws) byId.delete(id)
    })
  })
  const address = wss.address()
  serve(typeof address === 'object' && address !== null ? address.port : 0, () => ({ registered: byId.size, clients }), async () => {})
}

const role = process.argv[2]
if (role === 'signaling') await signalingMain(process.argv[3], process.argv[4])
else if (role === 'bare') await bareMain()
else throw new Error(`unknown server role ${String(role)}`)
