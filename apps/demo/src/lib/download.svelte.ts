/**
 * One download at a time through the peer's `fetch` (it finds providers,
 * asking again while nobody is known, races the paths, may switch between
 * them, verifies) and hands over a Blob. While it runs the peer's events
 * tell this download's story: `fetch:finding` the lookups, `path:up` /
 * `path:down` the paths to its providers, `path:switch` the path carrying
 * new requests, so the page's method badge changes the moment they move.
 * The peer's events cover every fetch: only those of the running download
 * (its content id, while it is the current one) count here.
 *
 * The transport writes the file into the origin private file system (a
 * disk-backed File; in memory where OPFS is missing): a reload mid-transfer
 * and the same link again resume from what is there. The stored file goes
 * once it is saved through the file picker, or when the person removes the
 * download or starts another one.
 *
 *   idle ──start(cid)──► finding ──first dial──► transferring ──► verified ──saveAs()──► verified (savedAs)
 *                           └───────────────────────┴──────────► failed (plain words)
 *   any ──remove()──► idle
 */
import { contentIdOf } from '@chiral/peer'
import { removeStoredDownload } from '@chiral/transport'
import { explainError } from './format.js'
import { saveToPickedFile } from './save-file.js'
import { listen } from './peer-listeners.js'
import type { ChiralClient } from './chiral-client.svelte.js'
import type { TransferMethod } from '@chiral/core'
import type { ChiralPeer, PeerEvents } from '@chiral/peer'
import type { FetchResult, TransferProgress } from '@chiral/transport'

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
  | {
    name: 'verified'
    cid: string
    result: FetchResult
    url: string
    switches: TransferMethod[]
    /** Set once saved through the file picker (the stored copy is gone then). */
    savedAs?: string
    /** Saving through the file picker, or why it failed. */
    saving?: 'running' | { error: string }
  }
  | { name: 'failed', cid: string, title: string, detail: string }

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
    await this.release()
    let cid: string
    try {
      cid = contentIdOf(input)
    } catch (err) {
      this.state = { name: 'failed', cid: input.trim(), ...explainError(err) }
      return
    }
    const controller = new AbortController()
    this.controller = controller
    this.state = { name: 'finding', cid, startedAt: Date.now() }
    const peer = this.client.peer
    const unfollow = peer === undefined ? () => {} : this.follow(peer, cid, controller)
    try {
      const result = await this.client.fetch(cid, {
        signal: controller.signal,
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
    } finally {
      unfollow()
    }
  }

  cancel (): void {
    this.controller?.abort()
    this.controller = undefined
  }

  /** Cancels the download and deletes what it stored (a partial file too). */
  async remove (): Promise<void> {
    const s = this.state
    this.cancel()
    this.state = { name: 'idle' }
    if (s.name === 'verified') {
      URL.revokeObjectURL(s.url)
    } else if (s.name === 'idle') {
      return
    }
    // A cancelled transfer lets go of its file a moment later.
    for (let attempt = 0; attempt < 10; attempt++) {
      if (await removeStoredDownload(s.cid).catch(() => false)) return
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }

  /**
   * Streams the verified file into a file the person picks
   * (`showSaveFilePicker`, where the browser has it), then deletes the stored copy.
   */
  async saveAs (): Promise<void> {
    const s = this.state
    if (s.name !== 'verified' || s.saving === 'running' || s.result.blob === undefined) return
    const update = (patch: Partial<Extract<DownloadState, { name: 'verified' }>>): void => {
      if (this.state.name === 'verified' && this.state.url === s.url) this.state = { ...this.state, ...patch }
    }
    update({ saving: 'running' })
    try {
      const name = await saveToPickedFile(s.result.blob, s.result.name)
      if (name === undefined) {
        update({ saving: undefined })
        return
      }
      update({ saving: undefined, savedAs: name })
      await this.release()
    } catch (err) {
      update({ saving: { error: explainError(err).title } })
    }
  }

  /** Frees the last download's Blob URL and the file it stored. */
  async release (): Promise<void> {
    const s = this.state
    if (s.name !== 'verified') return
    URL.revokeObjectURL(s.url)
    await removeStoredDownload(s.cid).catch(() => {})
  }

  /** Follows the peer's events for this download (`cid`, while `controller` is the current one). */
  private follow (peer: ChiralPeer<never>, cid: string, controller: AbortController): () => void {
    /** The providers this download dialled. */
    const providers = new Set<string>()
    const current = (): boolean => this.controller === controller
    const mine = (e: { detail: { cid: string } }): boolean => current() && e.detail.cid === cid
    const onPath = (status: LivePath['status']) => (e: PeerEvents['path:up'] | PeerEvents['path:down']): void => {
      if (this.state.name !== 'transferring' || !mine(e)) return
      const { peerId, path, method, setupMs } = e.detail
      const rest = this.state.paths.filter((p) => p.peerId !== peerId || p.path !== path)
      this.state = { ...this.state, paths: [...rest, { peerId, path, method, setupMs, status }] }
    }
    return listen(peer, {
      'fetch:finding': (e) => {
        if (this.state.name !== 'finding' || !current() || e.detail.cid !== cid) return
        // Search n starts once n - 1 found nobody.
        if (e.detail.search > 1) this.state = { ...this.state, attempts: e.detail.search - 1 }
      },
      'path:dialing': (e) => {
        if (!mine(e)) return
        providers.add(e.detail.peerId)
        if (this.state.name === 'finding') {
          this.state = { name: 'transferring', cid, startedAt: this.state.startedAt, providers: providers.size, switches: [], paths: [] }
        } else if (this.state.name === 'transferring' && this.state.providers !== providers.size) {
          this.state = { ...this.state, providers: providers.size }
        }
      },
      'path:up': onPath('up'),
      'path:down': onPath('down'),
      'path:switch': (e) => {
        if (this.state.name !== 'transferring' || !mine(e)) return
        const method = e.detail.method
        const switches = this.state.switches.at(-1) === method ? this.state.switches : [...this.state.switches, method]
        this.state = { ...this.state, active: method, switches }
      }
    })
  }
}
