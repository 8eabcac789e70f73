/**
 * One download at a time: find providers on the DHT, fetch through the
 * transport (which picks and may switch paths), verify, hand over a Blob.
 *
 *   idle ──start(cid)──► finding ──► transferring ──► verified
 *                           └────────────┴──────────► failed (plain words)
 */
import { NoProvidersError, parseContentId } from '@chiral/core'
import { explainError } from './format.js'
import type { ChiralClient } from './chiral-client.svelte.js'
import type { FetchResult, TransferProgress } from '@chiral/transport'

export type DownloadState =
  | { name: 'idle' }
  | { name: 'finding', cid: string, startedAt: number }
  | { name: 'transferring', cid: string, startedAt: number, providers: number, progress?: TransferProgress, switches: string[] }
  | { name: 'verified', cid: string, result: FetchResult, url: string, switches: string[] }
  | { name: 'failed', cid: string, title: string, detail: string }

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
      const providers = []
      const signal = AbortSignal.any([controller.signal, AbortSignal.timeout(30_000)])
      for await (const p of discovery.findProviders(cid, { signal, limit: 3 })) {
        if (p.peerId.toString() !== this.client.peerId) providers.push(p)
      }
      if (providers.length === 0) throw new NoProvidersError(`No provider of ${cid}`)
      const switches: string[] = []
      this.state = { name: 'transferring', cid, startedAt, providers: providers.length, switches }
      const result = await receiver.fetch(cid, {
        providers,
        signal: controller.signal,
        onProgress: (progress) => {
          if (this.state.name !== 'transferring' || this.controller !== controller) return
          const last = this.state.switches.at(-1)
          const next = last === progress.method ? this.state.switches : [...this.state.switches, progress.method]
          this.state = { ...this.state, progress, switches: next }
        }
      })
      if (this.controller !== controller) return
      const blob = result.blob ?? new Blob([])
      const seen = this.state.name === 'transferring' ? this.state.switches : []
      this.state = { name: 'verified', cid, result, url: URL.createObjectURL(blob), switches: seen }
    } catch (err) {
      if (this.controller !== controller) return
      this.state = { name: 'failed', cid, ...explainError(err) }
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
