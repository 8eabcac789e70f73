/**
 * The one object an application holds: a libp2p node (relay reservations,
 * DHT), a signaling client, provider discovery, a provider, the WebRTC
 * listener and a receiver racing the paths, all under one key.
 *
 *   const peer = createPeer({ signaling: 'wss://node.example:9000' })
 *   await peer.start()
 *   const { cid, link } = await peer.share('./photo.jpg')      // elsewhere:
 *   const result = await peer.fetch(link, { destination: '.' })
 *   await peer.stop()
 *
 * See `peer-state.ts` for the lifecycle and `peer-events.ts` for the events.
 */
import { AbortError, createDiscovery, InvalidArgumentError, isChiralError, NotStartedError, reachabilityOf, relayAddresses, waitForRelayReservation } from '@chiral/core'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TypedEventEmitter } from 'main-event'
import { RelayUnreachableError } from './errors.js'
import { createPathSet } from './path-set.js'
import {
  DEFAULT_ANNOUNCE_TIMEOUT, DEFAULT_DIRECT_CONNECT_TIMEOUT, DEFAULT_FIND_TIMEOUT, DEFAULT_RELAY_TIMEOUT, defaultPaths, signalingUrlsOf
} from './peer-init.js'
import { peerSignaling } from './peer-signaling.js'
import { transition } from './peer-state.js'
import { onPrivateNetwork } from './private-network.js'
import { fetchRelayAddrsOfAll } from './relay-discovery.js'
import { contentIdOf, demoUrlOf, shareLink } from './share-link.js'
import type { PeerEvents } from './peer-events.js'
import type { PeerInit } from './peer-init.js'
import type { PeerComponents, PeerFetchOptions, PeerShareOptions, SharedContent } from './peer-types.js'
import type { PeerState } from './peer-state.js'
import type { Platform } from './platform.js'
import type { AbortOptions, ChiralNode, PeerTarget, ProviderInfo, Reachability, Signaling, Startable } from '@chiral/core'
import type { WebSocketSignaling, WebSocketStateDetail } from '@chiral/signaling'
import type { ContentSource, FetchResult, Provider } from '@chiral/transport'
import type { PrivateKey } from '@libp2p/interface'

export class ChiralPeer<Input = never> extends TypedEventEmitter<PeerEvents> implements Startable {
  private readonly init: PeerInit
  private readonly signalingUrls: string[]
  private readonly platform: Platform<Input>
  private current: PeerState = { status: 'idle' }
  private parts?: PeerComponents<Input>
  private wsClient?: WebSocketSignaling
  private key?: PrivateKey
  private relayList: string[] = []
  private readonly cleanups: Array<() => void> = []
  private release?: () => void

  constructor (init: PeerInit, platform: Platform<Input>) {
    super()
    const urls = signalingUrlsOf(init)
    if (urls.length === 0 && (init.relays === undefined || init.relays.length === 0)) {
      throw new InvalidArgumentError('A peer needs a signaling server URL (signaling) or relay multiaddrs (relays)')
    }
    for (const text of urls) {
      try {
        const url = new URL(text)
        if (url.protocol !== 'ws:' && url.protocol !== 'wss:') throw new Error('not ws: or wss:')
      } catch {
        throw new InvalidArgumentError(`The signaling server URL must be ws://… or wss://…, not ${text}`)
      }
    }
    this.init = init
    this.signalingUrls = urls
    this.platform = platform
  }

  get state (): PeerState {
    return this.current
  }

  /** This peer's id (libp2p PeerId, also its signaling id), once started. */
  get peerId (): string {
    return this.running().node.peerId.toString()
  }

  /** The signaling server the peer is registered on or trying now (of several: which one); `undefined` without one. */
  get signalingUrl (): string | undefined {
    return this.wsClient?.url
  }

  /** The relays this peer uses (given, or asked from the signaling servers' nodes). */
  get relays (): string[] {
    return [...this.relayList]
  }

  /** This peer's relay circuit addresses: how others reach it. */
  get relayAddresses (): string[] {
    return this.parts === undefined ? [] : relayAddresses(this.parts.node).map(String)
  }

  /**
   * Whether other peers can dial this one directly (AutoNAT v2 against the
   * relay / DHT servers; `unknown` until started). A peer without `listen`
   * is `private` (`relay-only`) at once; one with direct listeners is
   * `checking` until a server dialled one back (`public`) or the check
   * window passed without (`private`, `not-confirmed` behind a NAT). Every
   * change comes as a `reachability` event.
   */
  get reachability (): Reachability {
    return this.parts === undefined ? { status: 'unknown' } : reachabilityOf(this.parts.node)
  }

  /** How to reach this peer directly, for another peer's `fetch(…, { providers: [target] })` without the DHT. */
  get target (): PeerTarget {
    const { node } = this.running()
    return { peerId: node.peerId.toString(), multiaddrs: relayAddresses(node) }
  }

  /** The parts of a running peer. */
  get components (): PeerComponents<Input> {
    return this.running()
  }

  /**
   * Starts every part; resolves once the peer holds a relay reservation (see
   * `relayTimeout`). Rejects with `ReservationRefusedError`
   * (`reservation-refused`: every relay refused a reservation, e.g. it is
   * full), `RelayUnreachableError`, `RelayLookupError` or `AbortError`,
   * leaving nothing running.
   */
  async start (options: AbortOptions = {}): Promise<void> {
    if (this.current.status === 'running' || this.current.status === 'starting') return
    this.move({ status: 'starting', step: 'finding the relay' })
    try {
      await this.boot(options)
      this.move({ status: 'running', since: Date.now() })
    } catch (err) {
      this.move({ status: 'failed', error: err as Error })
      await this.teardown()
      this.move({ status: 'stopped' })
      if (options.signal?.aborted === true) throw new AbortError('Peer start aborted', { cause: err })
      throw err
    }
  }

  /** Stops every part: running fetches fail with `AbortError`, nothing is left running (a Node process can exit). */
  async stop (): Promise<void> {
    if (this.current.status === 'idle' || this.current.status === 'stopped') return
    if (this.current.status === 'stopping') return
    this.move({ status: 'stopping' })
    await this.teardown()
    this.move({ status: 'stopped' })
  }

  /**
   * Shares content (Node: a file path; everywhere: a Blob/File or a
   * `ContentSource`): hashes it with progress, serves it and announces it.
   * If the announcement fails the content is not kept shared.
   */
  async share (input: Input | Blob | ContentSource, options: PeerShareOptions = {}): Promise<SharedContent> {
    const { provider, discovery } = this.running()
    let cid: string | undefined
    try {
      const manifest = await provider.share(input, options)
      cid = manifest.cid.toString()
      if (options.announce !== false) {
        const limit = AbortSignal.timeout(this.init.announceTimeout ?? DEFAULT_ANNOUNCE_TIMEOUT)
        await discovery.announce(cid, { signal: options.signal === undefined ? limit : AbortSignal.any([limit, options.signal]) })
      }
      const base = this.linkBase()
      return { cid, manifest, ...(base === undefined ? {} : { link: shareLink(base, cid) }) }
    } catch (err) {
      if (cid !== undefined) await provider.unshare(cid).catch(() => {})
      throw this.abortError(err, options.signal, `Sharing ${cid ?? 'content'}`)
    }
  }

  /** Stops serving and announcing a content id. */
  async unshare (cid: string, options: AbortOptions = {}): Promise<void> {
    const { provider, discovery } = this.running()
    const id = contentIdOf(cid)
    await discovery.withdraw(id, options).catch(() => {})
    await provider.unshare(id)
  }

  /**
   * Fetches a content id or share link: finds providers (asking again while
   * none is known, up to `findTimeout`), races the paths to them, verifies
   * every chunk. Rejects with `InvalidContentIdError` for bad input,
   * `NoProvidersError`, `PathsLostError`, a provider's fault, or — whatever
   * was running when the signal fired — `AbortError` (`aborted`).
   */
  async fetch (input: string, options: PeerFetchOptions = {}): Promise<FetchResult> {
    const { receiver } = this.running()
    const cid = contentIdOf(input)
    const { signal } = options
    try {
      const providers = options.providers ?? await this.findProviders(cid, options)
      return await receiver.fetch(cid, {
        providers,
        ...(signal === undefined ? {} : { signal }),
        ...(options.destination === undefined ? {} : { destination: options.destination }),
        ...(options.fileName === undefined ? {} : { fileName: options.fileName }),
        ...(options.overwrite === undefined ? {} : { overwrite: options.overwrite }),
        ...(options.retryBudget === undefined ? {} : { retryBudget: options.retryBudget }),
        ...(options.window === undefined ? {} : { window: options.window }),
        ...(options.sink === undefined ? {} : { sink: options.sink }),
        onProgress: (progress) => {
          options.onProgress?.(progress)
          this.safeDispatchEvent('fetch:progress', { detail: { cid, progress } })
        }
      })
    } catch (err) {
      throw this.abortError(err, signal, `Fetch of ${cid}`)
    }
  }

  /** One abort error, whatever was running when the signal fired or the peer stopped. */
  private abortError (err: unknown, signal: AbortSignal | undefined, what: string): unknown {
    if (this.current.status !== 'running') return new AbortError(`${what} aborted: the peer stopped`, { cause: err })
    if (signal?.aborted !== true || isChiralError(err, 'aborted')) return err
    return new AbortError(`${what} aborted`, { cause: err })
  }

  private async findProviders (cid: string, options: PeerFetchOptions): Promise<ProviderInfo[]> {
    const { discovery } = this.running()
    const limit = AbortSignal.timeout(options.findTimeout ?? this.init.findTimeout ?? DEFAULT_FIND_TIMEOUT)
    const signal = options.signal === undefined ? limit : AbortSignal.any([options.signal, limit])
    this.safeDispatchEvent('fetch:finding', { detail: { cid, search: 1 } })
    const providers: ProviderInfo[] = []
    for await (const p of discovery.findProviders(cid, {
      signal,
      limit: 3,
      keepLooking: true,
      onRetry: (search) => { this.safeDispatchEvent('fetch:finding', { detail: { cid, search } }) }
    })) providers.push(p)
    return providers
  }

  private async boot (options: AbortOptions): Promise<void> {
    const init = this.init
    const { platform } = this
    const signal = options.signal
    this.release = platform.retain?.()
    this.relayList = init.relays !== undefined && init.relays.length > 0
      ? [...init.relays]
      : await fetchRelayAddrsOfAll(this.signalingUrls, { browser: platform.browser }, { signal: AbortSignal.any([AbortSignal.timeout(10_000), ...(signal === undefined ? [] : [signal])]) })
    this.move({ status: 'starting', step: 'starting the node' })
    // A node on a private network: private addresses are how everyone is reached, public STUN adds nothing.
    const local = onPrivateNetwork([...this.signalingUrls, ...this.relayList])
    const allowPrivate = init.allowPrivateAddresses ?? local
    const iceServers = init.iceServers ?? (local ? [] : undefined)
    const pathNames = init.paths ?? defaultPaths(init)
    this.key = init.privateKey ?? this.key ?? await generateKeyPair('Ed25519')
    const node = await platform.createNode({
      role: platform.role,
      privateKey: this.key,
      relays: this.relayList,
      listen: ['/p2p-circuit', ...(platform.role === 'peer' ? init.listen ?? [] : [])],
      allowPrivateAddresses: allowPrivate,
      ...(init.liveness === undefined ? {} : { liveness: init.liveness }),
      ...(init.reachabilityWindow === undefined ? {} : { reachability: { window: init.reachabilityWindow } }),
      ...(init.directTcp === undefined || platform.role !== 'peer' ? {} : { directTcp: init.directTcp }),
      // libp2p's own WebRTC transport, only for its path.
      ...(pathNames.includes('libp2p-webrtc') ? { webrtc: { ...(iceServers === undefined ? {} : { iceServers }) } } : {})
    })
    const partial: Partial<PeerComponents<Input>> = { node }
    this.parts = partial as PeerComponents<Input>
    this.on(node, 'self:peer:update', () => { this.reportReachability() })
    if (node.services.reachability !== undefined) this.on(node.services.reachability, 'reachability', () => { this.reportReachability() })
    await node.start()

    this.move({ status: 'starting', step: 'connecting to the signaling server' })
    const signaling = this.createSignaling(node)
    if (signaling !== undefined) {
      partial.signaling = signaling
      await signaling.start()
    }
    partial.discovery = createDiscovery(node)
    this.on(partial.discovery, 'announce', (e) => { this.safeDispatchEvent('announce', { detail: e.detail }) })
    await partial.discovery.start()
    const provider = platform.createProvider({ node }, init.provider ?? {})
    partial.provider = provider
    for (const [from, to] of [['session:open', 'serve:open'], ['session:content', 'serve:content'], ['session:close', 'serve:close']] as const) {
      this.on(provider, from, (e) => { this.safeDispatchEvent(to, { detail: e.detail }) })
    }
    await provider.start()
    const paths = createPathSet({
      node,
      provider: provider as Provider<unknown>,
      ...(signaling === undefined ? {} : { signaling }),
      ...(platform.RTCPeerConnection === undefined ? {} : { RTCPeerConnection: platform.RTCPeerConnection })
    }, {
      paths: pathNames,
      answerDirect: init.direct !== false,
      rtc: { ...init.webrtc, ...(iceServers === undefined ? {} : { iceServers }), connectTimeout: init.directConnectTimeout ?? DEFAULT_DIRECT_CONNECT_TIMEOUT }
    })
    partial.paths = paths
    if (paths.listener !== undefined) {
      for (const [from, to] of [['offer', 'incoming:offer'], ['channel', 'incoming:open'], ['session:error', 'incoming:failed']] as const) {
        this.on(paths.listener, from, (e) => { this.safeDispatchEvent(to, { detail: e.detail }) })
      }
    }
    await paths.start()
    const receiver = platform.createReceiver({ node, discovery: partial.discovery, dialers: paths.dialers }, init.receiver ?? {})
    partial.receiver = receiver
    for (const type of ['path:dialing', 'path:up', 'path:failed', 'path:down', 'path:switch'] as const) {
      this.on(receiver.race, type, (e) => { this.safeDispatchEvent(type, { detail: e.detail }) })
    }
    await receiver.start()

    const relayTimeout = init.relayTimeout ?? DEFAULT_RELAY_TIMEOUT
    if (relayTimeout > 0) {
      this.move({ status: 'starting', step: 'reserving a relay slot' })
      try {
        await waitForRelayReservation(node, { signal: AbortSignal.any([AbortSignal.timeout(relayTimeout), ...(signal === undefined ? [] : [signal])]) })
      } catch (err) {
        if (signal?.aborted === true) throw err
        // every relay answered, and refused: say so now rather than at the time limit
        if (isChiralError(err, 'reservation-refused')) throw err
        throw new RelayUnreachableError(`No relay reservation within ${relayTimeout / 1000} s on ${this.relayList.join(', ')}`, { cause: err })
      }
    }
    this.reportReachability()
  }

  private createSignaling (node: ChiralNode): Signaling | undefined {
    const built = peerSignaling({
      node,
      mode: this.init.signalingMode ?? 'websocket',
      urls: this.signalingUrls,
      privateKey: this.key!,
      ...(this.platform.WebSocket === undefined ? {} : { WebSocket: this.platform.WebSocket })
    })
    if (built === undefined) return undefined
    this.wsClient = built.websocket
    if (built.websocket !== undefined) {
      this.on(built.websocket, 'state', (e) => {
        const { status, attempt, url, delay } = e.detail as WebSocketStateDetail
        this.safeDispatchEvent('signaling', { detail: { status, attempt, ...(url === undefined ? {} : { url }), ...(typeof delay === 'number' ? { delay } : {}) } })
        this.reportReachability()
      })
    }
    return this.init.wrapSignaling === undefined ? built.signaling : this.init.wrapSignaling(built.signaling)
  }

  private async teardown (): Promise<void> {
    const parts = this.parts as Partial<PeerComponents<Input>> | undefined
    this.parts = undefined
    for (const cleanup of this.cleanups.splice(0)) cleanup()
    if (parts !== undefined) await this.stopParts(parts)
    this.wsClient = undefined
    this.release?.()
    this.release = undefined
  }

  private async stopParts (parts: Partial<PeerComponents<Input>>): Promise<void> {
    await parts.receiver?.stop().catch(() => {})
    await parts.paths?.stop().catch(() => {})
    await parts.provider?.stop().catch(() => {})
    await parts.discovery?.stop().catch(() => {})
    await parts.signaling?.stop().catch(() => {})
    try { await parts.node?.stop() } catch {}
  }

  private reportReachability (): void {
    const status = this.wsClient?.status
    const url = this.wsClient?.url
    this.safeDispatchEvent('reachability', {
      detail: { relayAddresses: this.relayAddresses, ...(status === undefined ? {} : { signaling: status }), ...(url === undefined ? {} : { signalingUrl: url }), direct: this.reachability }
    })
  }

  /** Links open the demo on the node the peer is registered on (of several), else on the first. */
  private linkBase (): string | undefined {
    const url = (this.wsClient?.status === 'open' ? this.wsClient.url : undefined) ?? this.signalingUrls[0]
    return this.init.linkBase ?? (url === undefined ? undefined : demoUrlOf(url))
  }

  private running (): PeerComponents<Input> {
    if (this.current.status !== 'running' || this.parts === undefined) throw new NotStartedError(`The peer is ${this.current.status}, not running: call start() first`)
    return this.parts
  }

  private move (next: PeerState): void {
    this.current = transition(this.current, next)
    this.safeDispatchEvent('state', { detail: next })
  }

  /** Adds a listener that `teardown()` removes. */
  private on<T extends EventTarget> (target: T, type: string, fn: (e: CustomEvent) => void): void {
    const listener = fn as EventListener
    target.addEventListener(type, listener)
    this.cleanups.push(() => { target.removeEventListener(type, listener) })
  }
}
