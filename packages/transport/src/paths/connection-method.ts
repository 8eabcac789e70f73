import type { TransferMethod } from '@chiral/core'
import type { Connection } from '@libp2p/interface'

/**
 * How a libp2p connection carries bytes: `webrtc-direct` for libp2p's WebRTC,
 * `relay` for a circuit-relay connection, `tcp-direct` for a plain TCP
 * connection straight to the peer (a DCUtR hole punch or a dial to its TCP
 * listener), `libp2p-direct` otherwise (e.g. WebSockets straight to the peer).
 */
export function methodOfConnection (connection: Pick<Connection, 'direct' | 'multiplexer' | 'remoteAddr'>): TransferMethod {
  if (connection.multiplexer === '/webrtc') return 'webrtc-direct'
  const parts = connection.remoteAddr.getComponents()
  if (!connection.direct || parts.some((c) => c.name === 'p2p-circuit')) return 'relay'
  if ((parts[0]?.name === 'ip4' || parts[0]?.name === 'ip6') && parts[1]?.name === 'tcp' && parts.slice(2).every((c) => c.name === 'p2p')) return 'tcp-direct'
  return 'libp2p-direct'
}
