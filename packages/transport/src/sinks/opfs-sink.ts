import { chunkLength, isChiralError, verifyChunk } from '@chiral/core'
import { StorageUnavailableError } from '../errors.js'
import { checkBrowserQuota, opfsFileSize } from './browser-quota.js'
import { dataFileName, OPFS_DOWNLOADS_DIR, opfsAvailable, recordFileName } from './opfs-store.js'
import { OpfsWorkerFile } from './opfs-worker-file.js'
import { ChunkBits, claimedChunks, parseResumeRecord, recordFor } from './resume-record.js'
import type { OpfsWorkerFactory } from './opfs-worker-file.js'
import type { SinkOutput, TransferSink } from './sink.js'
import type { AbortOptions, Manifest } from '@chiral/core'

export interface OpfsSinkInit {
  /** Folder below the OPFS root (default `chiral-downloads`). */
  directory?: string
  /** MIME type of the File handed back (default `application/octet-stream`). */
  type?: string
  /** Least time between two saves of the resume record, ms (default 50). */
  recordInterval?: number
  /** Makes the worker that holds the files (default: the built-in one). */
  createWorker?: OpfsWorkerFactory
}

/** Times `open()` tries again when the file is still locked (a reloaded page's old worker lets go a moment later). */
const OPEN_ATTEMPTS = 4
const OPEN_RETRY_MS = 250

/**
 * Browser sink for files of any size: verified chunks go straight to a file
 * in the origin private file system (written in place by a worker), a small
 * resume record beside it lists the chunks in it. `complete()` hands back
 * the disk-backed File (`getFile()`), so the file is never copied into JS
 * memory, and a Blob URL of it saves it without a copy either.
 *
 * A new fetch of the same content id (after a reload, a failure, a cancel)
 * reads the record and hashes the chunks it lists again: only those that
 * verify count as held, the rest is fetched. The record is saved at most
 * every `recordInterval` ms, so a reload loses at most the chunks written
 * in that time and those in flight.
 *
 * `open()` fails with `StorageUnavailableError` where OPFS or its worker
 * cannot be used (see `fallbackSink`), with `InsufficientSpaceError` (before
 * creating anything) when `navigator.storage.estimate()` says the file does
 * not fit, and writes with `StorageQuotaError` when the site's storage is full. The finished file stays in OPFS until
 * `removeStoredDownload(cid)` (or `pruneStoredDownloads()`) deletes it.
 */
export function opfsSink (init: OpfsSinkInit = {}): TransferSink {
  return new OpfsSink(init)
}

class OpfsSink implements TransferSink {
  private readonly init: OpfsSinkInit
  private manifest?: Manifest
  private file?: OpfsWorkerFile
  private bits?: ChunkBits
  private readonly writes = new Set<Promise<void>>()
  private saveTimer?: ReturnType<typeof setTimeout>
  private saving?: Promise<void>
  private lastSave = 0
  private dirty = false
  private closing = false

  constructor (init: OpfsSinkInit) {
    this.init = init
  }

  private get dir (): string {
    return this.init.directory ?? OPFS_DOWNLOADS_DIR
  }

  async open (manifest: Manifest, options: AbortOptions = {}): Promise<number[]> {
    if (!opfsAvailable()) throw new StorageUnavailableError('This browser offers no origin private file system (or no workers) here')
    this.manifest = manifest
    const cid = manifest.cid.toString()
    // Before the worker creates the file: refuse a file the site's quota cannot hold.
    await checkBrowserQuota(manifest.size, await opfsFileSize(this.dir, dataFileName(cid)))
    const { file, opened } = await this.openFile(cid, options)
    this.file = file
    try {
      const held: number[] = []
      const claimed = opened.size === manifest.size ? claimedChunks(parseResumeRecord(opened.record ?? ''), manifest) : undefined
      if (claimed != null) {
        for (let i = 0; i < manifest.chunks.length; i++) {
          if (!claimed.has(i)) continue
          options.signal?.throwIfAborted()
          const bytes = await file.read(i * manifest.chunkSize, chunkLength(manifest, i))
          if (await verifyChunk(manifest, i, bytes)) held.push(i)
        }
      } else {
        await file.reset(manifest.size)
      }
      this.bits = new ChunkBits(manifest.chunks.length)
      for (const i of held) this.bits.set(i)
      await file.save(JSON.stringify(recordFor(manifest, this.bits)))
      this.lastSave = Date.now()
      return held
    } catch (err) {
      await file.close().catch(() => {})
      file.terminate()
      this.file = undefined
      throw err
    }
  }

  async write (index: number, bytes: Uint8Array): Promise<void> {
    const { file, manifest, bits } = this
    if (file == null || manifest == null || bits == null) throw new StorageUnavailableError('opfsSink.write before open')
    // Posting a view copies its whole buffer: post exactly the chunk.
    const exact = bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()
    const op = file.write(index * manifest.chunkSize, exact).then(() => {
      bits.set(index)
      this.scheduleSave()
    })
    this.writes.add(op)
    try {
      await op
    } finally {
      this.writes.delete(op)
    }
  }

  async complete (): Promise<SinkOutput> {
    const { file, manifest } = this
    if (file == null || manifest == null) throw new StorageUnavailableError('opfsSink.complete before open')
    await this.settle()
    try {
      await file.finish()
    } finally {
      file.terminate()
      this.file = undefined
    }
    const root = await navigator.storage.getDirectory()
    const handle = await (await root.getDirectoryHandle(this.dir)).getFileHandle(dataFileName(manifest.cid.toString()))
    const onDisk = await handle.getFile()
    // A File made of a File refers to the same bytes on disk (no copy); it carries the manifest's name.
    const blob = new File([onDisk], manifest.name, { type: this.init.type ?? 'application/octet-stream', lastModified: onDisk.lastModified })
    return { blob }
  }

  async abort (): Promise<void> {
    const file = this.file
    if (file == null) return
    await this.settle()
    if (this.dirty) await this.save()
    await file.close().catch(() => {})
    file.terminate()
    this.file = undefined
  }

  /** Lets running writes and the record save finish, and stops timed saves. */
  private async settle (): Promise<void> {
    await Promise.allSettled([...this.writes])
    this.closing = true
    if (this.saveTimer != null) clearTimeout(this.saveTimer)
    this.saveTimer = undefined
    await this.saving
  }

  /** Opens the worker's files, trying again for a moment while another worker still holds them. */
  private async openFile (cid: string, options: AbortOptions): Promise<{ file: OpfsWorkerFile, opened: { size: number, record?: string } }> {
    for (let attempt = 1; ; attempt++) {
      let file: OpfsWorkerFile
      try {
        file = new OpfsWorkerFile(this.init.createWorker)
      } catch (err) {
        throw new StorageUnavailableError(`Could not start the storage worker: ${(err as Error).message}`, { cause: err })
      }
      try {
        const opened = await file.open([this.dir], dataFileName(cid), recordFileName(cid))
        return { file, opened }
      } catch (err) {
        file.terminate()
        if (!isChiralError(err, StorageUnavailableError.code) || attempt >= OPEN_ATTEMPTS) throw err
        options.signal?.throwIfAborted()
        await new Promise((resolve) => setTimeout(resolve, OPEN_RETRY_MS))
      }
    }
  }

  private scheduleSave (): void {
    this.dirty = true
    if (this.closing || this.saveTimer != null || this.saving != null) return
    const wait = Math.max(0, this.lastSave + (this.init.recordInterval ?? 50) - Date.now())
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      void this.save()
    }, wait)
  }

  private async save (): Promise<void> {
    const { file, manifest, bits } = this
    if (file == null || manifest == null || bits == null) return
    this.dirty = false
    // Every write acknowledged so far is in the file, and the worker runs this after them.
    const saving = file.save(JSON.stringify(recordFor(manifest, bits))).catch(() => { this.dirty = true })
    this.saving = saving
    await saving
    this.lastSave = Date.now()
    if (this.saving === saving) this.saving = undefined
    if (this.dirty) this.scheduleSave()
  }
}
