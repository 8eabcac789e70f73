import { createServer } from 'node:http'
import { createNode, keptPeers } from '@chiral/core'
import { createSignalingServer, redactRedisUrl, redisCluster } from '@chiral/signaling'
import { prometheusMetrics } from '@libp2p/prometheus-metrics'
import { Registry } from 'prom-client'
import { openDatastore } from './datastore.js'
import { createRequestHandler } from './http-routes.js'
import { createHttpRateLimit } from './http-rate-limit.js'
import { loadOrCreateKey } from './key-file.js'
import { createStaticFiles } from './static-files.js'
import { readCounts, registerNodeMetrics, withCircuitCounter } from './metrics.js'
import { CappedProviderStore } from './provider-caps.js'
import type { NodeConfig } from './config.js'
import type { OpenDatastore } from './datastore.js'
import type { ClusterHealth, HealthReport } from './http-routes.js'
import type { Log } from './log.js'
import type { ChiralNode } from '@chiral/core'
import type { PrivateKey } from '@libp2p/interface'
import type { ClusterStatus, SignalingServer } from '@chiral/signaling'
import type { Server } from 'node:http'

export interface RunningNode {
  peerId: string
  /** ws:// URL of the signaling server. */
  signalingUrl: string
  /** Multiaddrs peers should use, each ending in /p2p/<peer id>. */
  multiaddrs: string[]
  stop(): Promise<void>
}

/**
 * The deployable node: a `server`-preset libp2p node (relay + DHT), the
 * WebSocket signaling server and /health + /metrics on one HTTP port.
 *
 * ```
 *  start: key file → datastore open → provider index read → libp2p start → HTTP listen (signaling attached) → ready
 *  stop:  signaling stop (clients get 1001) → HTTP close → libp2p stop → datastore close
 * ```
 */
export async function startNode (config: NodeConfig, log: Log): Promise<RunningNode> {
  const { key, created } = await loadOrCreateKey(config.keyFile)
  log.info(created ? 'created key file' : 'loaded key file', { path: config.keyFile })

  const store = await openDatastore(config.datastore)
  log.info('opened datastore', { location: store.location })
  const unlimited = (n: number): number | string => Number.isFinite(n) ? n : 'unlimited'
  log.info('relay limits', {
    maxReservations: config.relay.maxReservations,
    maxReservationsPerIp: unlimited(config.relay.maxReservationsPerIp),
    dataLimitBytes: unlimited(config.relay.dataLimit),
    durationLimitMs: unlimited(config.relay.durationLimit),
    rateLimitBytesPerSecond: unlimited(config.relay.rateLimit)
  })
  try {
    return await startWithDatastore(config, log, key, store)
  } catch (err) {
    await store.close().catch(() => {})
    throw err
  }
}

async function startWithDatastore (config: NodeConfig, log: Log, key: PrivateKey, store: OpenDatastore): Promise<RunningNode> {
  const datastore = new CappedProviderStore(store.datastore, config.dht)
  await datastore.load()
  const providers = (): ReturnType<CappedProviderStore['counts']> => datastore.counts()
  log.info('dht provider records', { stored: providers().records, peers: providers().peers, maxRecordsPerPeer: config.dht.maxRecordsPerPeer, maxRecords: config.dht.maxRecords })
  const registry = new Registry()
  const ip = config.host.includes(':') ? 'ip6' : 'ip4'
  const node: ChiralNode = await createNode({
    role: 'server',
    privateKey: key,
    listen: [`/${ip}/${config.host}/tcp/${config.tcpPort}`, `/${ip}/${config.host}/tcp/${config.wsPort}/ws`],
    ...(config.announce.length > 0 ? { announce: config.announce } : {}),
    ...(config.bootstrap.length > 0 ? { bootstrap: config.bootstrap } : {}),
    allowPrivateAddresses: config.allowPrivateAddresses,
    relay: { maxReservations: config.relay.maxReservations, maxReservationsPerIp: config.relay.maxReservationsPerIp, dataLimit: config.relay.dataLimit, durationLimit: config.relay.durationLimit, rateLimit: config.relay.rateLimit },
    datastore,
    metrics: withCircuitCounter(prometheusMetrics({ registry, collectDefaultMetrics: true }), registry)
  })

  const http: Server = createServer()
  const signaling: SignalingServer = createSignalingServer({
    server: http,
    path: '/',
    maxClients: config.signaling.maxClients,
    maxMessageBytes: config.signaling.maxMessageBytes,
    rateLimit: { perSecond: config.signaling.ratePerSecond, burst: config.signaling.rateBurst },
    heartbeatInterval: config.signaling.heartbeatInterval,
    maxSendBuffer: config.signaling.maxSendBuffer,
    allowAnonymous: config.signaling.allowAnonymous,
    ...(config.redis === undefined ? {} : { cluster: redisCluster(config.redis) })
  })
  if (config.redis !== undefined) logClusterStatus(signaling, log, redactRedisUrl(config.redis.url))
  registerNodeMetrics(registry, node, signaling, providers)

  const startedAt = Date.now()
  const multiaddrs = (): string[] => node.getMultiaddrs().map((ma) => ma.toString())
  const signalingUrl = (): string => {
    const address = http.address()
    const port = typeof address === 'object' && address !== null ? address.port : config.port
    const announced = config.announce.map((a) => /^\/(ip4|ip6|dns4|dns6|dns)\/([^/]+)/.exec(a)?.[2]).find((h) => h !== undefined)
    const host = announced ?? (config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host)
    return `ws://${host.includes(':') ? `[${host}]` : host}:${port}`
  }
  const signalingUrls = (): string[] => config.signalingUrls.length > 0 ? config.signalingUrls : [signalingUrl()]
  const health = async (): Promise<HealthReport> => ({
    status: 'ok',
    peerId: node.peerId.toString(),
    signalingUrl: signalingUrls()[0]!,
    signalingUrls: signalingUrls(),
    multiaddrs: multiaddrs(),
    bootstrap: keptPeers(node),
    uptimeSeconds: Math.round((Date.now() - startedAt) / 1000),
    cluster: clusterHealth(signaling.clusterStatus()),
    counts: { ...readCounts(node, signaling, providers) }
  })
  const rateLimit = createHttpRateLimit({ perSecond: config.httpRateLimit })
  const routes = createRequestHandler({
    health,
    registry,
    allow: (req) => rateLimit.allow(req.socket.remoteAddress ?? ''),
    onError: (err) => { log.error('http handler failed', { error: err.message }) }
  })
  const demo = config.demoDir === undefined ? undefined : createStaticFiles(config.demoDir)
  http.on('request', (req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (demo === undefined || path === '/health' || path === '/metrics') {
      routes(req, res)
      return
    }
    demo(req, res).then((served) => { if (!served) routes(req, res) }, (err: Error) => {
      log.error('demo file failed', { error: err.message })
      if (!res.headersSent) routes(req, res)
      else res.destroy()
    })
  })

  await node.start()
  try {
    await signaling.start()
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject)
      http.listen(config.port, config.host, () => { http.off('error', reject); resolve() })
    })
  } catch (err) {
    await signaling.stop().catch(() => {})
    await node.stop()
    throw err
  }

  let stopping: Promise<void> | undefined
  return {
    peerId: node.peerId.toString(),
    signalingUrl: signalingUrl(),
    multiaddrs: multiaddrs(),
    async stop () {
      stopping ??= (async () => {
        await signaling.stop()
        await new Promise<void>((resolve) => {
          http.close(() => { resolve() })
          http.closeAllConnections()
        })
        await node.stop()
        await store.close()
      })()
      return stopping
    }
  }
}

/** One line when Redis is lost, one when it is back: not one per reconnect attempt. */
function logClusterStatus (signaling: SignalingServer, log: Log, url: string): void {
  let wasConnected: boolean | undefined
  signaling.addEventListener('cluster:status', ({ detail }) => {
    if (detail.mode !== 'redis' || detail.state === 'stopped' || detail.state === 'connecting') return
    if (detail.connected === wasConnected) return
    if (detail.connected) {
      log.info('redis connected: signaling shared with other instances', { url, instanceId: detail.instanceId })
    } else {
      log.warn('redis unavailable: local signaling continues, cross-instance routing resumes when it is back', { url, instanceId: detail.instanceId, error: detail.error })
    }
    wasConnected = detail.connected
  })
}

function clusterHealth (status: ClusterStatus): ClusterHealth {
  if (status.mode === 'local') return { mode: 'local' }
  return { mode: 'redis', instanceId: status.instanceId, connected: status.connected, state: status.state, since: new Date(status.since).toISOString(), ...(status.error === undefined ? {} : { error: status.error }) }
}
