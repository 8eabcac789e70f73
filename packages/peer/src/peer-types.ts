/** What a peer's methods take and give. */
import type { PathSet } from './path-set.js'
import type { AbortOptions, ChiralNode, ContentDiscovery, Manifest, PeerTarget, ProviderInfo, Signaling } from '@chiral/core'
import type { Provider, Receiver, ShareOptions, TransferProgress, TransferSink } from '@chiral/transport'

export interface PeerShareOptions extends ShareOptions {
  /** Announce the content id on the DHT so others find this peer (default true). */
  announce?: boolean
}

export interface SharedContent {
  cid: string
  /** A link that opens the demo's download page for it (absent without a signaling server or `linkBase`). */
  link?: string
  manifest: Manifest
}

export interface PeerFetchOptions extends AbortOptions {
  /** Node: directory for the file (and its `.part` + resume record while it arrives); without it a Blob. */
  destination?: string
  /** Node: the file's name instead of the manifest's (sanitised either way). */
  fileName?: string
  /** Node: replace a file of that name instead of picking `name (1).ext`. */
  overwrite?: boolean
  onProgress?: (progress: TransferProgress) => void
  /** Who to fetch from (default: the DHT's providers). */
  providers?: Array<PeerTarget | ProviderInfo>
  /** How long to look for providers, ms (default: the peer's `findTimeout`). */
  findTimeout?: number
  /** This fetch's retry budget per outage, ms. */
  retryBudget?: number
  /** Chunks in flight per channel for this fetch. */
  window?: number
  /** Where verified chunks go instead of a file in `destination` (or a Blob). */
  sink?: TransferSink
}

/** What a running peer is made of, for apps that need more than the peer's own methods. */
export interface PeerComponents<Input> {
  node: ChiralNode
  discovery: ContentDiscovery
  provider: Provider<Input>
  receiver: Receiver
  signaling?: Signaling
  paths: PathSet
}
