import type { PeerInfoMapper } from '@libp2p/kad-dht'
import type { PeerInfo } from '@libp2p/interface'

/**
 * The `peerInfoMapper` of a DHT client: keeps only addresses a DHT server can
 * have, i.e. drops relayed ones (`…/p2p-circuit/…`, WebRTC through a relay
 * included), after `base`.
 *
 * kad-dht turns every peer named in a query answer into a routing table
 * candidate, providers of a GET_PROVIDERS answer included, and admits it when
 * it answers a libp2p ping. A provider behind a relay (a browser, a peer
 * behind NAT) answers pings through its relay, so it entered the routing
 * tables of the peers that found it; their later queries then asked it (a DHT
 * client, which does not speak the DHT protocol) and waited for a relayed
 * dial to time out. A peer reachable only through a relay is never a DHT
 * server here (servers need a direct address), so it gets no addresses and
 * kad-dht ignores it. Only clients use this mapper: a server's mapper also
 * shapes the provider lists it hands out, which must keep relay addresses.
 */
export function dhtClientMapper (base: PeerInfoMapper): PeerInfoMapper {
  return (peer: PeerInfo): PeerInfo => {
    const mapped = base(peer)
    return {
      ...mapped,
      multiaddrs: mapped.multiaddrs.filter((ma) => !ma.getComponents().some((c) => c.name === 'p2p-circuit'))
    }
  }
}
