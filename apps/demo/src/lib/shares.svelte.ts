/**
 * Files this page shares through the peer's `share`: hashed into a
 * manifest, announced on the DHT, served until the page closes (or the
 * person stops sharing).
 *
 *   hashing ──every byte hashed──► announcing ──► shared
 *      └──────────────────────────────┴──────────► failed
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
  /** The link that opens this app's Download page with the id filled in. */
  link?: string
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
    const peer = this.client.peer
    if (peer === undefined || this.client.phase.name !== 'running') {
      update({ state: { name: 'failed', error: 'The app is not connected yet: check the Network page.' } })
      return
    }
    // The peer hashes, then announces: once every byte is hashed the announcement is under way.
    let announcing: number | undefined
    try {
      const { cid, link } = await peer.share(file, {
        name: file.name,
        onProgress: (p) => {
          if (announcing !== undefined) return
          if (p.bytes < file.size) {
            update({ state: { name: 'hashing', bytes: p.bytes } })
            return
          }
          announcing = performance.now()
          update({ state: { name: 'announcing' } })
        }
      })
      if (!this.files.some((f) => f.key === entry.key)) {
        // Stopped sharing while it was being hashed or announced.
        await peer.unshare(cid).catch(() => {})
        return
      }
      update({ cid, ...(link === undefined ? {} : { link }), state: { name: 'shared', announceMs: performance.now() - (announcing ?? performance.now()) } })
    } catch (err) {
      update({ state: { name: 'failed', error: `Could not share ${file.name}: ${(err as Error).message}` } })
    }
  }

  async remove (key: number): Promise<void> {
    const file = this.files.find((f) => f.key === key)
    this.files = this.files.filter((f) => f.key !== key)
    if (file?.cid === undefined) return
    await this.client.peer?.unshare(file.cid).catch(() => {})
  }
}
