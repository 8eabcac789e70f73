import type { ClientConnection } from './client-connection.js'
import type { ClusterStatus, SignalingCluster, SignalingClusterEvents } from './cluster/cluster.js'
import type { MessageRouter } from './message-router.js'
import type { Registry } from './registry.js'
import type { SignalingServerStats } from './stats.js'

/** What the bridge acts on: the server's current registry and router, and a way to retire a connection. */
export interface BridgeTarget {
  registry: () => Registry
  router: () => MessageRouter
  stats: SignalingServerStats
  /** Takes a connection out of the registry (without releasing its claim) and closes it. */
  replaced: (conn: ClientConnection) => void
  status: (status: ClusterStatus) => void
}

/**
 * Applies what the cluster reports to the local server: signals for local
 * clients, membership of other instances, takeovers, undeliverable signals.
 * Returns the function that detaches it.
 */
export function bridgeCluster (cluster: SignalingCluster, target: BridgeTarget): () => void {
  const handlers: { [K in keyof SignalingClusterEvents]: (e: SignalingClusterEvents[K]) => void } = {
    forward: ({ detail: { to, from, origin, frame } }) => {
      // The sender's format does not travel: an earlier-format receiver gets text sdp wrapped
      // in an object, as from one of ours, which such a client accepts either way.
      const conn = target.registry().get(to)
      if (conn === undefined) {
        cluster.bounce(origin, from, 'unknown-peer', `no client "${to}" is registered`)
      } else if (!conn.trySendForward(frame)) {
        cluster.bounce(origin, from, 'buffer-full', `"${to}" is not reading; message dropped`)
      } else {
        target.stats.messagesRouted++
      }
    },
    'member:joined': ({ detail: { room, id, instance, version } }) => { target.registry().remoteJoined(room, id, instance, version) },
    'member:left': ({ detail: { room, id, version } }) => { target.registry().remoteLeft(room, id, version) },
    members: ({ detail: { room, members, version } }) => { target.registry().reconcile(room, members, version) },
    'versions:reset': () => { target.registry().forgetVersions() },
    'room:unwatched': ({ detail: { room } }) => { target.registry().forgetRoom(room) },
    replaced: ({ detail: { id, token } }) => {
      const conn = target.registry().get(id)
      if (conn !== undefined && conn.token === token) target.replaced(conn)
    },
    bounce: ({ detail: { to, code, message } }) => {
      const conn = target.registry().get(to)
      if (conn !== undefined) target.router().reject(conn, code, message)
    },
    status: ({ detail }) => { target.status(detail) }
  }
  const entries = Object.entries(handlers) as Array<[keyof SignalingClusterEvents, (e: Event) => void]>
  for (const [name, handler] of entries) cluster.addEventListener(name, handler)
  return () => {
    for (const [name, handler] of entries) cluster.removeEventListener(name, handler)
  }
}
