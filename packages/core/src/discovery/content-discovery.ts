import { TypedEventEmitter } from 'main-event'
import { parseContentId } from '../content/content-id.js'
import { AbortError, NoProvidersError, NotStartedError, throwIfAborted } from '../errors.js'
import { DHT_PROTOCOL } from '../presets/options.js'
import { DhtServerWatch } from './dht-server-watch.js'
import { FIRST_RETRY_DELAY, MAX_RETRY_DELAY, provideRecord } from './provide-record.js'
import { sleep } from './sleep.js'
import type { ContentId } from '../content/content-id.js'
import type { AbortOptions, Startable } from '../contracts/abort.js'
import type { Libp2p, Logger, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CID } from 'multiformats/cid'

/** A peer that says it has a content id, with the addresses to dial it. */
export interface ProviderInfo {
  peerId: PeerId
  /** Dialable addresses, relay circuit addresses included. */
  multiaddrs: Multiaddr[]
}

export interface ContentDiscoveryInit {
  /** How often announced ids are announced again, ms (default 10 minutes). */
  reannounceInterval?: number
  /**
   * Time limit of an `announce`, and of the wait for a DHT server in
   * `findProviders`, when the caller passes no signal, ms (default 30 s).
   */
  defaultTimeout?: number
  /**
   * Re-announce every announced id when a DHT server comes back (connects and
   * is identified again after all connections to it had closed: it restarted,
   * or this node's network changed), instead of waiting for the next periodic
   * round (default true).
   */
  reannounceOnReturn?: boolean
  /** Quiet time after a DHT server came back before the re-announce, so a burst gives one round, ms (default 300). */
  returnDebounce?: number
  /** The DHT protocol servers list in identify (default `DHT_PROTOCOL`, as the node presets use). */
  dhtProtocol?: string
}

/** Why a re-announce round ran. */
export type ReannounceReason = 'interval' | 'server-returned'

export interface AnnounceEventDetail {
  cid: ContentId
  /** Set for a re-announce: what started its round. Unset for `announce()` itself. */
  reason?: ReannounceReason
  /** Set when a periodic re-announce failed; the id stays announced and is retried. */
  error?: Error
}

export interface ContentDiscoveryEvents {
  /** An id was (re-)announced, or a re-announce failed. */
  announce: CustomEvent<AnnounceEventDetail>
}

export interface FindProvidersOptions extends AbortOptions {
  /** Stop after this many providers (default: no limit). */
  limit?: number
  /**
   * Ask again, after `retryDelay`, when a DHT server answered but knew no
   * provider, until the signal fires (default false: such an answer ends
   * the search with `NoProvidersError`). A record may still be on its way
   * to the server, or its provider may be announcing again after a restart.
   */
  keepLooking?: boolean
  /** Pause between two searches that found nobody, ms (default 1 s). */
  retryDelay?: number
  /** Called before each search after the first, with its number (2, 3, …). */
  onRetry?: (search: number) => void
}

/**
 * Announces and finds content ids on the node's Kademlia DHT.
 *
 * ```
 *   announce(cid) ──► wait for an own address ──► DHT provide ──► sent to ≥ 1 DHT server? ──► resolve
 *                          ▲                                          │ no: pause, try again
 *                          └──────────────────────────────────────────┘  (until the signal: AnnounceFailedError)
 *   every `reannounceInterval`, and when a DHT server comes back (debounced):
 *     the same again for each announced id, one round at a time
 *   withdraw(cid) ──► no more re-announces; DHT reprovide cancelled
 *
 *   findProviders(cid) ──► DHT query ──► providers? ──► yield them
 *                              ▲             │ none, and no DHT server answered: pause, ask again
 *                              └─────────────┘ none, and a DHT server answered: NoProvidersError
 * ```
 */
export class ContentDiscovery extends TypedEventEmitter<ContentDiscoveryEvents> implements Startable {
  private readonly node: Libp2p
  private readonly interval: number
  private readonly defaultTimeout: number
  private readonly announced = new Map<string, ContentId>()
  private readonly log: Logger
  /** Ids whose `announce()` has not resolved yet: a round leaves them to it. */
  private readonly inFlight = new Set<string>()
  private readonly watch?: DhtServerWatch
  private timer?: ReturnType<typeof setInterval>
  private controller?: AbortController
  /** The re-announce round running now, and whether another was asked for meanwhile. */
  private round?: Promise<void>
  private queued?: ReannounceReason

  constructor (node: Libp2p, init: ContentDiscoveryInit = {}) {
    super()
    this.node = node
    this.interval = init.reannounceInterval ?? 10 * 60 * 1000
    this.defaultTimeout = init.defaultTimeout ?? 30_000
    this.log = node.logger.forComponent('chiral:core:discovery')
    if (init.reannounceOnReturn !== false) {
      this.watch = new DhtServerWatch(node, { protocol: init.dhtProtocol ?? DHT_PROTOCOL, debounce: init.returnDebounce ?? 300 })
      this.watch.addEventListener('return', (evt) => {
        if (this.announced.size === 0) return
        this.log('%d DHT server(s) came back (%s): re-announcing %d id(s)', evt.detail.servers.length, evt.detail.servers.map(String).join(', '), this.announced.size)
        this.reannounce('server-returned')
      })
    }
  }

  async start (): Promise<void> {
    if (this.controller !== undefined) return
    this.controller = new AbortController()
    this.timer = setInterval(() => { this.reannounce('interval') }, this.interval)
    this.timer.unref?.()
    await this.watch?.start()
  }

  async stop (): Promise<void> {
    await this.watch?.stop()
    clearInterval(this.timer)
    this.timer = undefined
    this.queued = undefined
    this.controller?.abort(new AbortError('Discovery stopped'))
    this.controller = undefined
  }

  /** Content ids currently announced. */
  get announcedIds (): ContentId[] {
    return [...this.announced.values()]
  }

  /**
   * Announces that this node provides `cid`, now and periodically until
   * `withdraw(cid)`. Resolves once at least one DHT server was sent a record
   * carrying this node's addresses: it waits for the node's first address
   * (a relay reservation, for a node behind a relay) and for a DHT server.
   * Rejects (and does not keep the id) with `AnnounceFailedError` when that
   * did not happen before the signal (default: `defaultTimeout`) fired, and
   * with `AbortError` when discovery stops.
   */
  async announce (cid: CID | string, options: AbortOptions = {}): Promise<void> {
    const id = parseContentId(cid)
    const signal = this.signal(options, true)
    this.announced.set(id.toString(), id)
    this.inFlight.add(id.toString())
    try {
      await provideRecord(this.node, id, { signal })
    } catch (err) {
      this.announced.delete(id.toString())
      if (this.controller?.signal.aborted !== false) throw new AbortError('Announce aborted: discovery stopped', { cause: err })
      throw err
    } finally {
      this.inFlight.delete(id.toString())
    }
    this.safeDispatchEvent('announce', { detail: { cid: id } })
  }

  /** Stops announcing `cid`. Records already stored expire on their own. */
  async withdraw (cid: CID | string, options: AbortOptions = {}): Promise<void> {
    const id = parseContentId(cid)
    this.announced.delete(id.toString())
    try {
      await this.node.contentRouting.cancelReprovide(id, { signal: this.signal(options) })
    } catch (err) {
      this.log('cancelReprovide failed for %s - %e', id.toString(), err)
    }
  }

  /**
   * Yields providers of `cid` (never this node) as the DHT finds them. A
   * query that no DHT server answered (none connected yet, or none reachable)
   * is asked again after a pause until the signal (default:
   * `defaultTimeout`) fires. Throws `NoProvidersError` when a query that a
   * DHT server answered ends (unless `keepLooking`), or the signal fires,
   * before any provider was found; `InvalidContentIdError` for a bad id.
   */
  async * findProviders (cid: CID | string, options: FindProvidersOptions = {}): AsyncGenerator<ProviderInfo> {
    const id = parseContentId(cid)
    const signal = this.signal(options, true)
    const seen = new Set<string>()
    const self = this.node.peerId
    let delay = FIRST_RETRY_DELAY
    let search = 1
    try {
      for (;; search++) {
        if (search > 1) options.onRetry?.(search)
        let answered = 0
        const onProgress = (evt: CustomEvent<{ messageName?: string, from?: PeerId }>): void => {
          if (evt.type === 'kad-dht:query:peer-response' && evt.detail.messageName === 'GET_PROVIDERS' && evt.detail.from?.equals(self) === false) answered++
        }
        for await (const provider of this.node.contentRouting.findProviders(id, { signal, onProgress } as AbortOptions)) {
          if (provider.id.equals(self) || seen.has(provider.id.toString())) continue
          seen.add(provider.id.toString())
          yield { peerId: provider.id, multiaddrs: await this.addressesOf(provider.id, provider.multiaddrs) }
          if (options.limit !== undefined && seen.size >= options.limit) return
        }
        if (seen.size > 0) break
        if (answered > 0) {
          if (options.keepLooking !== true) break
          this.log('no provider of %s known yet, asking again', id.toString())
          await sleep(options.retryDelay ?? 1000, signal)
          continue
        }
        this.log('no DHT server answered a search for %s, asking again in %d ms', id.toString(), delay)
        await sleep(delay, signal)
        delay = Math.min(delay * 2, MAX_RETRY_DELAY)
      }
    } catch (err) {
      if (seen.size > 0 && signal.aborted) return
      if (seen.size === 0) {
        throw new NoProvidersError(`No provider of ${id.toString()} found${signal.aborted ? ' within the time limit' : ''}`, { cause: err })
      }
      throw err
    }
    if (seen.size === 0) {
      throw new NoProvidersError(`No provider of ${id.toString()} found`)
    }
  }

  private async addressesOf (peerId: PeerId, known: Multiaddr[]): Promise<Multiaddr[]> {
    const all = new Map<string, Multiaddr>(known.map((ma) => [ma.toString(), ma]))
    try {
      const peer = await this.node.peerStore.get(peerId)
      for (const { multiaddr } of peer.addresses) all.set(multiaddr.toString(), multiaddr)
    } catch {
      // not in the peer store: the DHT's answer is all we have
    }
    return [...all.values()]
  }

  private signal (options: AbortOptions, withDefaultTimeout = false): AbortSignal {
    if (this.controller === undefined) throw new NotStartedError('ContentDiscovery is not started')
    throwIfAborted(options.signal)
    const limit = options.signal ?? (withDefaultTimeout ? AbortSignal.timeout(this.defaultTimeout) : undefined)
    return limit === undefined
      ? this.controller.signal
      : AbortSignal.any([this.controller.signal, limit])
  }

  /**
   * Starts a re-announce round, or, while one runs, queues one more: an id
   * the running round already did may need doing again (the server that came
   * back may have done so after that id's provide).
   */
  private reannounce (reason: ReannounceReason): void {
    if (this.round !== undefined) {
      this.queued = reason === 'server-returned' ? reason : (this.queued ?? reason)
      return
    }
    this.round = this.reannounceRound(reason).finally(() => {
      this.round = undefined
      const next = this.queued
      this.queued = undefined
      if (next !== undefined && this.controller !== undefined) this.reannounce(next)
    })
  }

  private async reannounceRound (reason: ReannounceReason): Promise<void> {
    for (const id of [...this.announced.values()]) {
      const signal = this.controller?.signal
      if (signal === undefined || signal.aborted) return
      const key = id.toString()
      // withdrawn meanwhile, or its own announce() is still on it
      if (!this.announced.has(key) || this.inFlight.has(key)) continue
      try {
        await provideRecord(this.node, id, { signal: AbortSignal.any([signal, AbortSignal.timeout(this.defaultTimeout)]) })
        this.safeDispatchEvent('announce', { detail: { cid: id, reason } })
      } catch (err) {
        if (signal.aborted) return
        this.log.error('re-announce of %s failed - %e', key, err)
        this.safeDispatchEvent('announce', { detail: { cid: id, reason, error: err as Error } })
      }
    }
  }
}

/** Creates provider discovery on a started (or soon started) Chiral node. Call `start()`. */
export function createDiscovery (node: Libp2p, init?: ContentDiscoveryInit): ContentDiscovery {
  return new ContentDiscovery(node, init)
}
