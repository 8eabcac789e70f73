import type { TransferMethod } from '@chiral/core'
import type { Connection } from '@libp2p/interface'

/**
 * How a libp2p connection carries bytes: `webrtc-direct` for libp2p's WebRTC,
 * `relay` for a circuit-relay connection, `libp2p-direct` otherwise (TCP or
 * WebSockets straight to the peer).
 */
export function methodOfConnection (connection: Pick<Connection, 'direct' | 'multiplexer' | 'remoteAddr'>): TransferMethod {
  if (connection.multiplexer === '/webrtc') return 'webrtc-direct'
  if (!connection.direct || connection.remoteAddr.getComponents().some((c) => c.name === 'p2p-circuit')) return 'relay'
  return 'libp2p-direct'
}
