/**
 * Files this page shares: hashed into a manifest by the provider, announced
 * on the DHT, served until the page closes.
 *
 *   hashing ──► announcing ──► shared
 *      └──────────┴──────────► failed
 */
import type { ChiralClient } from './chiral-client.svelte.js'

export type ShareState =
  | { name: 'hashing', bytes: number }
  | { name: 'announcing' }
  | { name: 'shared', announceMs: number }
  | { name: 'failed', error: string }

export interface SharedFile {
  key: number
  fileName: string
  size: number
  cid?: string
  state: ShareState
}

let nextKey = 1

export class Shares {
  files = $state<SharedFile[]>([])
  private readonly client: ChiralClient

  constructor (client: ChiralClient) {
    this.client = client
  }

  /** Number of transfers served to other peers, by method. */
  get fetches (): { total: number, byMethod: Record<string, number> } {
    const byMethod: Record<string, number> = {}
    for (const s of this.client.served) byMethod[s.method] = (byMethod[s.method] ?? 0) + 1
    return { total: this.client.served.length, byMethod }
  }

  async add (file: File): Promise<void> {
    const entry: SharedFile = { key: nextKey++, fileName: file.name, size: file.size, state: { name: 'hashing', bytes: 0 } }
    this.files = [entry, ...this.files]
    const update = (patch: Partial<SharedFile>): void => {
      this.files = this.files.map((f) => f.key === entry.key ? { ...f, ...patch } : f)
    }
    const { provider, discovery } = this.client
    if (provider == null || discovery == null) {
      update({ state: { name: 'failed', error: 'The app is not connected yet: check the Network page.' } })
      return
    }
    try {
      const manifest = await provider.share(file, {
        name: file.name,
        onProgress: (p) => { update({ state: { name: 'hashing', bytes: p.bytes } }) }
      })
      const cid = manifest.cid.toString()
      update({ cid, state: { name: 'announcing' } })
      const started = performance.now()
      await discovery.announce(cid, { signal: AbortSignal.timeout(30_000) })
      update({ state: { name: 'shared', announceMs: performance.now() - started } })
    } catch (err) {
      update({ state: { name: 'failed', error: `Could not share ${file.name}: ${(err as Error).message}` } })
    }
  }

  async remove (key: number): Promise<void> {
    const file = this.files.find((f) => f.key === key)
    this.files = this.files.filter((f) => f.key !== key)
    if (file?.cid === undefined) return
    await this.client.discovery?.withdraw(file.cid).catch(() => {})
    await this.client.provider?.unshare(file.cid).catch(() => {})
  }
}
