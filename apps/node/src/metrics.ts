import { Gauge, Counter, Registry } from 'prom-client'
import type { ChiralNode } from '@chiral/core'
import type { Metrics, Stream } from '@libp2p/interface'
import type { SignalingServer } from '@chiral/signaling'
import type { ProviderCounts } from './provider-caps.js'

const STOP = '/libp2p/circuit/relay/0.2.0/stop'

export interface NodeCounts {
  connections: number
  peers: number
  signalingClients: number
  signalingRooms: number
  relayReservations: number
  relayedCircuits: number
  providerRecords: number
  /** Peers with provider records stored. */
  providerPeers: number
  /** New provider records dropped by `--dht-max-records-per-peer` / `--dht-max-records` since start. */
  providerRecordsRefused: number
}

/**
 * Reads the live counts behind /health and /metrics. Nothing here walks
 * stored records: the provider counts come from the datastore's index.
 */
export function readCounts (node: ChiralNode, signaling: SignalingServer, providers: () => ProviderCounts): NodeCounts {
  const connections = node.getConnections()
  const stats = signaling.stats()
  const relay = node.services.relay as { reservations?: { size: number } } | undefined
  const { records, peers, refused } = providers()
  return {
    connections: connections.length,
    peers: node.getPeers().length,
    signalingClients: stats.clients,
    signalingRooms: stats.rooms,
    relayReservations: relay?.reservations?.size ?? 0,
    // One outbound STOP stream per relayed connection passing through us.
    relayedCircuits: connections.reduce((n, c) => n + c.streams.filter((s) => s.protocol === STOP && s.direction === 'outbound').length, 0),
    providerRecords: records,
    providerPeers: peers,
    providerRecordsRefused: refused
  }
}

/**
 * Chiral's own metrics, in the registry that @libp2p/prometheus-metrics also
 * fills (libp2p_data_transfer_bytes_total{protocol="/libp2p/circuit/relay/0.2.0/hop …"}
 * counts relayed bytes).
 */
export function registerNodeMetrics (registry: Registry, node: ChiralNode, signaling: SignalingServer, providers: () => ProviderCounts): void {
  const gauge = (name: string, help: string, pick: (c: NodeCounts) => number): void => {
    // eslint-disable-next-line no-new
    new Gauge({ name, help, registers: [registry], collect () { this.set(pick(readCounts(node, signaling, providers))) } })
  }
  gauge('chiral_signaling_clients', 'Open signaling WebSocket connections', (c) => c.signalingClients)
  gauge('chiral_signaling_rooms', 'Signaling rooms with at least one member', (c) => c.signalingRooms)
  gauge('chiral_relay_reservations', 'Circuit relay reservations held', (c) => c.relayReservations)
  gauge('chiral_relay_circuits', 'Relayed connections currently passing through this node', (c) => c.relayedCircuits)
  gauge('chiral_dht_provider_records', 'DHT provider records stored on this node', (c) => c.providerRecords)
  gauge('chiral_dht_provider_peers', 'Peers with DHT provider records stored on this node', (c) => c.providerPeers)
  gauge('chiral_libp2p_connections', 'Open libp2p connections', (c) => c.connections)
  // eslint-disable-next-line no-new
  new Gauge({
    name: 'chiral_signaling_cluster_connected',
    help: '1 while signaling is shared with other instances through Redis; 0 while Redis is unavailable, or when running alone',
    registers: [registry],
    collect () {
      const status = signaling.clusterStatus()
      this.set(status.mode === 'redis' && status.connected ? 1 : 0)
    }
  })

  counterFrom(registry, 'chiral_signaling_messages_routed_total', 'Signaling offer/answer/candidate messages delivered', () => ({ '': signaling.stats().messagesRouted }))
  counterFrom(registry, 'chiral_signaling_connections_total', 'Signaling connections accepted', () => ({ '': signaling.stats().connectionsTotal }))
  counterFrom(registry, 'chiral_dht_provider_records_refused_total', 'New DHT provider records dropped by the per-peer or total cap', () => ({ '': providers().refused }))
  counterFrom(registry, 'chiral_signaling_errors_total', 'Signaling error replies sent, by code', () => ({ ...signaling.stats().errors }), 'code')
}

/**
 * A Prometheus counter that mirrors monotonic totals read from elsewhere:
 * on each scrape it adds what the source counted since the last one.
 */
function counterFrom (registry: Registry, name: string, help: string, read: () => Record<string, number>, label?: string): void {
  const reported = new Map<string, number>()
  // eslint-disable-next-line no-new
  new Counter({
    name,
    help,
    labelNames: label === undefined ? [] : [label],
    registers: [registry],
    collect () {
      for (const [key, now] of Object.entries(read())) {
        const delta = now - (reported.get(key) ?? 0)
        if (delta <= 0) continue
        reported.set(key, now)
        if (label === undefined) this.inc(delta)
        else this.inc({ [label]: key }, delta)
      }
    }
  })
}

/**
 * Wraps a libp2p metrics factory so that every relayed connection this node
 * opens (an outbound circuit-relay STOP stream) is counted.
 */
export function withCircuitCounter (inner: (components: any) => Metrics, registry: Registry): (components: any) => Metrics {
  const circuits = new Counter({ name: 'chiral_relay_circuits_total', help: 'Relayed connections opened through this node', registers: [registry] })
  return (components) => {
    const metrics = inner(components)
    const track = metrics.trackProtocolStream.bind(metrics)
    metrics.trackProtocolStream = (stream: Stream) => {
      if (stream.protocol === STOP && stream.direction === 'outbound') circuits.inc()
      track(stream)
    }
    return metrics
  }
}
