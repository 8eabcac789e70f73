/**
 * One download at a time: find providers on the DHT, fetch through the
 * transport (which races the paths and may switch between them), verify,
 * hand over a Blob. `active` follows the transport's `path:switch` events,
 * so the page's method badge changes the moment new requests move to
 * another path.
 *
 *   idle ──start(cid)──► finding ──► transferring ──► verified
 *                           └────────────┴──────────► failed (plain words)
 */
import { isChiralError, NoProvidersError, parseContentId } from '@chiral/core'
import { explainError } from './format.js'
import type { ChiralClient } from './chiral-client.svelte.js'
import type { ProviderInfo, TransferMethod } from '@chiral/core'
import type { FetchResult, PathDownDetail, PathEventDetail, PathSwitchDetail, TransferProgress } from '@chiral/transport'

export type DownloadState =
  | { name: 'idle' }
  | { name: 'finding', cid: string, startedAt: number, /** Lookups that found nobody so far. */ attempts?: number }
  | {
    name: 'transferring'
    cid: string
    startedAt: number
    providers: number
    progress?: TransferProgress
    /** The method of the path carrying new requests (latest `path:switch`). */
    active?: TransferMethod
    /** Methods the download moved to, in order (the first is where it started). */
    switches: TransferMethod[]
    /** Paths that came up (and maybe went down again), with their setup times. */
    paths: LivePath[]
  }
  | { name: 'verified', cid: string, result: FetchResult, url: string, switches: TransferMethod[] }
  | { name: 'failed', cid: string, title: string, detail: string }

/** How long a download looks for providers before it says nobody shares the file, ms. */
export const FIND_TIMEOUT = 30_000
/** Pause between two lookups that found nobody, ms. */
const FIND_RETRY_DELAY = 1500

async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve() }, ms)
    const onAbort = (): void => { clearTimeout(timer); reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
}

/** A path to a provider as the transport reported it during the download. */
export interface LivePath {
  peerId: string
  path: string
  method: TransferMethod
  setupMs: number
  status: 'up' | 'down'
}

export class Download {
  state = $state<DownloadState>({ name: 'idle' })
  private readonly client: ChiralClient
  private controller?: AbortController

  constructor (client: ChiralClient) {
    this.client = client
  }

  /** Starts downloading `input` (a content id or a share link); cancels any running download. */
  async start (input: string): Promise<void> {
    this.cancel()
    this.release()
    const text = input.trim().replace(/^.*#\/download\//, '')
    let cid: string
    try {
      cid = parseContentId(decodeURIComponent(text)).toString()
    } catch (err) {
      this.state = { name: 'failed', cid: text, ...explainError(err) }
      return
    }
    const { discovery, receiver } = this.client
    if (discovery == null || receiver == null) {
      this.state = { name: 'failed', cid, ...explainError({ code: 'not-started', message: 'not connected' }) }
      return
    }
    const controller = new AbortController()
    this.controller = controller
    const startedAt = Date.now()
    this.state = { name: 'finding', cid, startedAt }
    try {
      const providers = await this.findProviders(cid, controller.signal)
      this.state = { name: 'transferring', cid, startedAt, providers: providers.length, switches: [], paths: [] }
      const onPath = (status: LivePath['status']) => (event: CustomEvent<PathEventDetail | PathDownDetail>): void => {
        if (this.state.name !== 'transferring' || this.controller !== controller) return
        const { peerId, path, method, setupMs } = event.detail
        const rest = this.state.paths.filter((p) => p.peerId !== peerId || p.path !== path)
        this.state = { ...this.state, paths: [...rest, { peerId, path, method, setupMs, status }] }
      }
      const onUp = onPath('up')
      const onDown = onPath('down')
      const onSwitch = (event: CustomEvent<PathSwitchDetail>): void => {
        if (this.state.name !== 'transferring' || this.controller !== controller) return
        const method = event.detail.method
        const switches = this.state.switches.at(-1) === method ? this.state.switches : [...this.state.switches, method]
        this.state = { ...this.state, active: method, switches }
      }
      const result = await receiver.fetch(cid, {
        providers,
        signal: controller.signal,
        onPeerPaths: (peer) => {
          peer.addEventListener('path:switch', onSwitch)
          peer.addEventListener('path:up', onUp)
          peer.addEventListener('path:down', onDown)
        },
        onProgress: (progress) => {
          if (this.state.name !== 'transferring' || this.controller !== controller) return
          this.state = { ...this.state, progress }
        }
      })
      if (this.controller !== controller) return
      const blob = result.blob ?? new Blob([])
      const seen = result.switches.reduce<TransferMethod[]>((list, s) => list.at(-1) === s.method ? list : [...list, s.method], [])
      this.state = { name: 'verified', cid, result, url: URL.createObjectURL(blob), switches: seen }
    } catch (err) {
      if (this.controller !== controller) return
      this.state = { name: 'failed', cid, ...explainError(err) }
    }
  }

  /**
   * Providers of `cid` other than this page. A lookup that finds nobody is
   * asked again (a record may still be on its way to the DHT server) until
   * FIND_TIMEOUT has passed; then `NoProvidersError`.
   */
  private async findProviders (cid: string, cancel: AbortSignal): Promise<ProviderInfo[]> {
    const discovery = this.client.discovery
    if (discovery == null) throw new NoProvidersError('not connected')
    const signal = AbortSignal.any([cancel, AbortSignal.timeout(FIND_TIMEOUT)])
    for (let attempt = 1; ; attempt++) {
      const providers: ProviderInfo[] = []
      try {
        for await (const p of discovery.findProviders(cid, { signal, limit: 3 })) {
          if (p.peerId.toString() !== this.client.peerId) providers.push(p)
        }
      } catch (err) {
        if (!isChiralError(err, 'no-providers') || signal.aborted) throw err
      }
      if (providers.length > 0) return providers
      if (this.state.name === 'finding') this.state = { ...this.state, attempts: attempt }
      await sleep(FIND_RETRY_DELAY, signal).catch(() => {})
      if (signal.aborted) throw new NoProvidersError(`No provider of ${cid} found within ${FIND_TIMEOUT / 1000} s`)
    }
  }

  cancel (): void {
    this.controller?.abort()
    this.controller = undefined
  }

  /** Frees the last download's Blob URL. */
  release (): void {
    if (this.state.name === 'verified') URL.revokeObjectURL(this.state.url)
  }
}
