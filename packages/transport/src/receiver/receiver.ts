import { isChiralError, NoProvidersError, NotStartedError, parseContentId } from '@chiral/core'
import { logger } from '@libp2p/logger'
import { PathDialError, PathsLostError } from '../errors.js'
import { relayDialer } from '../paths/relay.js'
import { PathRace } from '../race/race.js'
import { TRANSFER_PROTOCOL } from '../protocol/constants.js'
import { ProviderLink } from './provider-link.js'
import { Transfer } from './transfer.js'
import type { TransferProgress, TransferResult } from './transfer.js'
import type { Recovery, RecoveryInit } from './provider-link.js'
import type { StallInit } from './stall-watch.js'
import type { PathRaceInit } from '../race/race.js'
import type { PathLoss, PathReport, PathSwitchDetail, PeerPaths } from '../race/peer-paths.js'
import type { TransferSink } from '../sinks/sink.js'
import type {
  AbortOptions, ContentId, MessageChannel, PathDialer, PeerTarget, ProviderInfo, Startable
} from '@chiral/core'
import type { Libp2p, Logger } from '@libp2p/interface'

/** Dependencies of a receiver. */
export interface ReceiverComponents {
  /** Used for the default relay path and for logging. */
  node?: Pick<Libp2p, 'dial' | 'getConnections'> & { logger?: Libp2p['logger'] }
  /** Paths raced for each provider, all at once (default: the relay path over `node`). */
  dialers?: PathDialer[]
  /** Finds providers when `fetch()` is given none. */
  discovery?: { findProviders(cid: ContentId, options?: AbortOptions): AsyncIterable<ProviderInfo> }
}

/** Settings of a receiver (the path selector's included). */
export interface ReceiverInit extends PathRaceInit, RecoveryInit, StallInit {
  protocol?: string
  /**
   * Largest file accepted, bytes (default: the platform's, 64 GiB in Node,
   * 16 GiB in browsers, see `size-limit.ts`). A manifest announcing more
   * fails the fetch with `FileTooLargeError` before any file is created.
   */
  maxFileSize?: number
  /** Chunks in flight per channel (default 8). */
  window?: number
  /** Providers used at once for one fetch (default 3). */
  maxProviders?: number
  /** Bad copies of one chunk before the fetch fails (default 3). */
  maxChunkAttempts?: number
  /** Bad chunks from one provider before it is dropped (default 3). */
  maxBadChunksPerChannel?: number
}

export interface FetchOptions extends AbortOptions {
  onProgress?: (progress: TransferProgress) => void
  /** Node: directory for the file (and its `.part` / resume record while it arrives). */
  destination?: string
  /** Node: file name to use instead of the manifest's (sanitised either way). */
  fileName?: string
  /** Node: replace a file of the same name instead of picking `name (1).ext`. */
  overwrite?: boolean
  /** Who to fetch from (default: ask discovery). */
  providers?: Array<PeerTarget | ProviderInfo>
  /** Channels already open to providers; used alongside `providers`. */
  channels?: MessageChannel[]
  /** Where verified chunks go (default: a file in `destination` in Node, else a Blob; browsers: a File in OPFS, else in memory). */
  sink?: TransferSink
  /** Chunks in flight per channel for this fetch. */
  window?: number
  /** Called with the transfer as soon as it exists (to watch its channel and chunk events). */
  onTransfer?: (transfer: Transfer) => void
  /** Called with each provider's paths as the race to it starts (path:up / path:down / path:switch events). */
  onPeerPaths?: (peer: PeerPaths) => void
  /** This fetch's retry budget per outage, ms (see `RecoveryInit.retryBudget`). */
  retryBudget?: number
}

/** A verified file, plus how the paths to its providers did. */
export interface FetchResult extends TransferResult {
  /** Every path raced to every provider: dial outcome and setup time. */
  pathReports: PathReport[]
  /** Moves of new requests from one path to another, in order (the first one is the start). */
  switches: PathSwitchDetail[]
  /** From the fetch call to the first verified chunk (undefined when nothing had to be fetched). */
  timeToFirstByteMs?: number
  /** Outages (every path to a provider down) the fetch came back from, in order. */
  recoveries: Recovery[]
  /** Every path lost and every dial that failed, per provider, oldest first. */
  losses: Array<PathLoss & { peerId: string }>
}

/** How a platform picks a sink when the caller gives none. */
export type DefaultSink = (options: FetchOptions) => TransferSink

/**
 * Fetches content ids: finds providers (or takes the given ones), opens a
 * path to each (relay by default), runs /chiral/transfer/1.0.0 on the
 * channels, and returns once the file verified.
 *
 *   idle ──start()──► started ──stop()──► idle    (stop cancels running fetches)
 */
export class Receiver implements Startable {
  readonly protocol: string
  private readonly components: ReceiverComponents
  private readonly init: ReceiverInit
  private readonly defaultSink: DefaultSink
  private readonly maxFileSize: number
  private readonly dialers: PathDialer[]
  /** The path race every fetch uses; its `path:*` events cover all fetches. */
  readonly race: PathRace
  private readonly log: Logger
  private readonly active = new Set<Transfer>()
  private controller?: AbortController

  /** `maxFileSize`: the platform's default limit, used when `init` sets none. */
  constructor (components: ReceiverComponents, init: ReceiverInit, defaultSink: DefaultSink, platform: { maxFileSize: number } = { maxFileSize: Number.MAX_SAFE_INTEGER }) {
    this.components = components
    this.init = init
    this.defaultSink = defaultSink
    this.maxFileSize = init.maxFileSize ?? platform.maxFileSize
    this.protocol = init.protocol ?? TRANSFER_PROTOCOL
    this.dialers = components.dialers ?? (components.node == null ? [] : [relayDialer(components.node)])
    this.race = new PathRace({ dialers: this.dialers }, init)
    this.log = components.node?.logger?.forComponent('chiral:transport:receiver') ?? logger('chiral:transport:receiver')
  }

  async start (): Promise<void> {
    this.controller ??= new AbortController()
  }

  async stop (): Promise<void> {
    this.controller?.abort()
    this.controller = undefined
    await Promise.allSettled([...this.active].map(async (t) => t.result))
  }

  /**
   * A transfer without paths: attach channels yourself (a race or path
   * selector does), then `seal()` it. `fetch()` is this plus dialing.
   */
  createTransfer (cid: ContentId | string, options: Omit<FetchOptions, 'providers' | 'channels'> = {}): Transfer {
    const controller = this.controller
    if (controller == null) throw new NotStartedError('Receiver is not started')
    const id = parseContentId(cid)
    const signal = options.signal == null ? controller.signal : AbortSignal.any([controller.signal, options.signal])
    const transfer = new Transfer(id, options.sink ?? this.defaultSink(options), {
      signal,
      ...(options.onProgress == null ? {} : { onProgress: options.onProgress }),
      window: options.window ?? this.init.window,
      maxFileSize: this.maxFileSize,
      ...(this.init.stallFloor == null ? {} : { stallFloor: this.init.stallFloor }),
      ...(this.init.stallFactor == null ? {} : { stallFactor: this.init.stallFactor }),
      ...(this.init.minRate == null ? {} : { minRate: this.init.minRate }),
      ...(this.init.maxChunkAttempts == null ? {} : { maxChunkAttempts: this.init.maxChunkAttempts }),
      ...(this.init.maxBadChunksPerChannel == null ? {} : { maxBadChunksPerChannel: this.init.maxBadChunksPerChannel })
    })
    this.active.add(transfer)
    void transfer.result.finally(() => { this.active.delete(transfer) }).catch(() => {})
    return transfer
  }

  /** Fetches `cid` and resolves once every byte verified and the file is final. */
  async fetch (cid: ContentId | string, options: FetchOptions = {}): Promise<FetchResult> {
    const startedAt = Date.now()
    const transfer = this.createTransfer(cid, options)
    let firstChunkAt: number | undefined
    transfer.addEventListener('chunk:verified', () => { firstChunkAt ??= Date.now() }, { once: true })
    options.onTransfer?.(transfer)
    const peers: PeerPaths[] = []
    const switches: PathSwitchDetail[] = []
    const onPeer = (peer: PeerPaths): void => {
      peers.push(peer)
      peer.addEventListener('path:switch', (e) => { switches.push(e.detail) })
      options.onPeerPaths?.(peer)
    }
    for (const channel of options.channels ?? []) transfer.attach(channel)
    const recoveries: Recovery[] = []
    void this.dialProviders(transfer, options, { onPeer, recoveries }).catch((err: Error) => { transfer.cancel(err) })
    const result = await transfer.result
    return {
      ...result,
      pathReports: peers.flatMap((p) => p.report()),
      switches,
      recoveries,
      losses: peers.flatMap((p) => p.losses.map((loss) => ({ peerId: p.peerId, ...loss }))),
      ...(firstChunkAt === undefined ? {} : { timeToFirstByteMs: firstChunkAt - startedAt })
    }
  }

  private async dialProviders (transfer: Transfer, options: FetchOptions, hooks: { onPeer(peer: PeerPaths): void, recoveries: Recovery[] }): Promise<void> {
    const signal = options.signal == null ? this.controller?.signal : AbortSignal.any([options.signal, ...(this.controller == null ? [] : [this.controller.signal])])
    const max = this.init.maxProviders ?? 3
    const providers = options.providers != null
      ? options.providers.slice(0, max)
      : options.channels != null && options.channels.length > 0 ? [] : await this.discover(transfer.cid, max, signal)
    if (providers.length === 0 && (options.channels ?? []).length === 0) {
      throw new NoProvidersError(`No provider of ${transfer.cid.toString()} to fetch from`)
    }
    const recovery: RecoveryInit = { ...this.init, ...(options.retryBudget === undefined ? {} : { retryBudget: options.retryBudget }) }
    let lastProgress: TransferProgress | undefined
    transfer.addEventListener('progress', (e) => { lastProgress = e.detail })
    const links = providers.map((provider) => new ProviderLink(this.race, transfer, {
      peerId: provider.peerId.toString(), multiaddrs: provider.multiaddrs
    }, this.protocol, recovery, {
      signal,
      onPeer: hooks.onPeer,
      onRecovered: (r) => { hooks.recoveries.push(r) },
      onReconnecting: (detail) => {
        // Only when nothing else carries the fetch: another provider may still be at it.
        if (transfer.channels.length > 0 || transfer.finished) return
        options.onProgress?.({
          bytes: transfer.bytesVerified,
          total: transfer.manifest?.size ?? 0,
          rate: 0,
          method: lastProgress?.method ?? 'relay',
          state: 'reconnecting',
          reconnecting: detail
        })
      }
    }))
    const outcomes = await Promise.allSettled(links.map(async (link) => { await link.run() }))
    if (transfer.finished) return
    const errors = outcomes.flatMap((o) => o.status === 'rejected' ? [o.reason as Error] : [])
    if ((options.channels ?? []).length > 0 && transfer.channels.length > 0) {
      // Channels the caller gave still carry: they decide the end.
      for (const e of errors) this.log('provider given up - %s', e.message)
      transfer.seal()
      return
    }
    transfer.cancel(giveUpError(transfer, errors))
  }

  private async discover (cid: ContentId, max: number, signal?: AbortSignal): Promise<ProviderInfo[]> {
    const discovery = this.components.discovery
    if (discovery == null) return []
    const found: ProviderInfo[] = []
    for await (const provider of discovery.findProviders(cid, signal == null ? {} : { signal })) {
      found.push(provider)
      if (found.length >= max) break
    }
    return found
  }
}

/**
 * The error of a fetch whose every provider was given up: the one provider's
 * own, or, with several, one that lists them all (a lost network first: it
 * is what to fix).
 */
function giveUpError (transfer: Transfer, errors: Error[]): Error {
  if (errors.length === 1) return errors[0]!
  if (errors.length === 0) return new PathDialError(`No path to any provider of ${transfer.cid.toString()}`)
  const all = errors.map((e) => e.message).join(' | ')
  const cause = new AggregateError(errors)
  if (errors.some((e) => isChiralError(e, PathsLostError.code))) return new PathsLostError(`Every provider of ${transfer.cid.toString()} was lost: ${all}`, { cause })
  if (errors.every((e) => isChiralError(e, PathDialError.code))) return new PathDialError(`No path to any provider of ${transfer.cid.toString()}: ${all}`, { cause })
  return errors.find((e) => !isChiralError(e, PathDialError.code)) ?? errors[0]!
}
