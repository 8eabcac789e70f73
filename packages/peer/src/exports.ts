// Platform-independent exports of @chiral/peer.
export { ChiralPeer } from './peer.js'
export type { PeerComponents, PeerFetchOptions, PeerShareOptions, SharedContent } from './peer-types.js'
export type { PeerInit, SignalingMode } from './peer-init.js'
export { DEFAULT_ANNOUNCE_TIMEOUT, DEFAULT_DIRECT_CONNECT_TIMEOUT, DEFAULT_FIND_TIMEOUT, DEFAULT_RELAY_TIMEOUT, signalingUrlsOf } from './peer-init.js'
export type { PeerEvents, ReachabilityDetail, SignalingStateDetail, TransferProgressDetail, FindingDetail } from './peer-events.js'
export type { PeerState } from './peer-state.js'
// The reachability states, from @chiral/core (for `peer.reachability` and the `reachability` event).
export type { Reachability, PrivateReason } from '@chiral/core'
export type { PathName, PathSet } from './path-set.js'
export { RelayUnreachableError, RelayLookupError } from './errors.js'
export { contentIdOf, demoUrlOf, shareLink } from './share-link.js'
export { fetchRelayAddrs, fetchRelayAddrsOfAll, healthUrl, relayAddrsFromHealth } from './relay-discovery.js'
export type { HealthLike, RelayPick } from './relay-discovery.js'
