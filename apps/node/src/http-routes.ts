import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Registry } from 'prom-client'

export interface HealthReport {
  status: 'ok'
  peerId: string
  /** The first of `signalingUrls`. */
  signalingUrl: string
  /** Where clients reach this node's signaling server (`--signaling-url`, or derived from the host and port). */
  signalingUrls: string[]
  multiaddrs: string[]
  /** The other instances this node keeps connected (`--bootstrap`, its own address left out), and whether each is now. */
  bootstrap: Array<{ multiaddr: string, peerId: string, connected: boolean }>
  uptimeSeconds: number
  /** Signaling across instances: `local` alone, or the Redis connection's state. */
  cluster: ClusterHealth
  counts: Record<string, number>
}

export type ClusterHealth =
  | { mode: 'local' }
  | { mode: 'redis', instanceId: string, connected: boolean, state: string, since: string, error?: string }

export interface RouteDeps {
  health: () => Promise<HealthReport>
  registry: Registry
  onError: (err: Error) => void
  /** Whether a /health or /metrics request may be answered now; false answers 429. */
  allow?: (req: IncomingMessage) => boolean
}

/** GET /health (JSON), GET /metrics (Prometheus text), anything else 404. */
export function createRequestHandler (deps: RouteDeps): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, 'text/plain; charset=utf-8', 'method not allowed\n', { allow: 'GET, HEAD' })
      return
    }
    if ((path === '/health' || path === '/metrics') && deps.allow?.(req) === false) {
      send(res, 429, 'text/plain; charset=utf-8', 'too many requests\n', { 'retry-after': '1' })
      return
    }
    const route = async (): Promise<void> => {
      if (path === '/health') {
        send(res, 200, 'application/json', JSON.stringify(await deps.health()) + '\n')
      } else if (path === '/metrics') {
        send(res, 200, deps.registry.contentType, await deps.registry.metrics())
      } else if (path === '/') {
        send(res, 200, 'text/plain; charset=utf-8', 'Chiral node: WebSocket signaling on this URL; GET /health, GET /metrics\n')
      } else {
        send(res, 404, 'text/plain; charset=utf-8', 'not found\n')
      }
    }
    route().catch((err: Error) => {
      deps.onError(err)
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n')
      else res.destroy()
    })
  }
}

function send (res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers })
  res.end(res.req.method === 'HEAD' ? undefined : body)
}
