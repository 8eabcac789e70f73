import { StorageUnavailableError } from '../errors.js'
import { OPFS_WORKER_SOURCE } from './opfs-worker-source.js'
import { storageError } from './storage-error.js'

/** Makes the worker that holds the files (default: the built-in one, from a Blob URL). */
export type OpfsWorkerFactory = () => Worker

interface Pending {
  resolve: (value: Record<string, unknown>) => void
  reject: (err: Error) => void
}

/**
 * A data file and its resume record in the origin private file system, held
 * open by a dedicated worker (see opfs-worker-source.ts for why a worker).
 * Calls run in the order they were made; each answers once the worker did it.
 */
export class OpfsWorkerFile {
  private readonly worker: Worker
  private readonly pending = new Map<number, Pending>()
  private nextId = 1
  private failed?: Error
  private url?: string

  constructor (createWorker?: OpfsWorkerFactory) {
    if (createWorker != null) {
      this.worker = createWorker()
    } else {
      this.url = URL.createObjectURL(new Blob([OPFS_WORKER_SOURCE], { type: 'text/javascript' }))
      this.worker = new Worker(this.url, { name: 'chiral-opfs' })
    }
    this.worker.onmessage = (e: MessageEvent<{ id: number, ok: boolean, name?: string, message?: string }>) => {
      const { id, ok } = e.data
      const p = this.pending.get(id)
      if (p == null) return
      this.pending.delete(id)
      if (ok) p.resolve(e.data)
      else p.reject(storageError(e.data.name ?? 'Error', e.data.message ?? ''))
    }
    this.worker.onerror = (e: ErrorEvent) => {
      e.preventDefault()
      this.fail(new StorageUnavailableError(`The storage worker failed: ${e.message}`))
    }
  }

  /** Opens (creating) `data` and `record` in the folder `dir` (a path below the OPFS root). */
  async open (dir: string[], data: string, record: string): Promise<{ size: number, record?: string }> {
    const r = await this.call({ op: 'open', dir, data, record })
    this.revokeUrl()
    return { size: r.size as number, ...(typeof r.record === 'string' ? { record: r.record } : {}) }
  }

  async read (position: number, length: number): Promise<Uint8Array> {
    return (await this.call({ op: 'read', position, length })).bytes as Uint8Array
  }

  /** Empties the data file and gives it `size` bytes (a full disk shows here, before any transfer). */
  async reset (size: number): Promise<void> {
    await this.call({ op: 'reset', size })
  }

  async write (position: number, bytes: Uint8Array): Promise<void> {
    await this.call({ op: 'write', position, bytes })
  }

  /** Replaces the resume record's text. */
  async save (text: string): Promise<void> {
    await this.call({ op: 'save', text })
  }

  /** Closes both files and deletes the record (the data file is complete). */
  async finish (): Promise<void> {
    await this.call({ op: 'finish' })
  }

  /** Flushes and closes both files (they stay for a later fetch). */
  async close (): Promise<void> {
    await this.call({ op: 'close' })
  }

  /** Ends the worker (after `finish()` or `close()`; its files' locks go with it). */
  terminate (): void {
    this.worker.terminate()
    this.revokeUrl()
    this.fail(new StorageUnavailableError('The storage worker was stopped'))
  }

  private async call (message: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (this.failed != null) throw this.failed
    const id = this.nextId++
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject })
      this.worker.postMessage({ ...message, id })
    })
  }

  private fail (err: Error): void {
    this.failed ??= err
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }

  private revokeUrl (): void {
    if (this.url != null) URL.revokeObjectURL(this.url)
    this.url = undefined
  }
}
