import { mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { dirname, extname, join, resolve } from 'node:path'
import { chunkLength, verifyChunk, InvalidArgumentError } from '@chiral/core'
import { sanitizeFileName } from './file-name.js'
import { checkFreeSpace } from './free-space.js'
import { ChunkBits, recordFor } from './resume-record.js'
import { readResumeRecord, writeResumeRecord } from './resume-record-file.js'
import type { SinkOutput, TransferSink } from './sink.js'
import type { Manifest } from '@chiral/core'
import type { FileHandle } from 'node:fs/promises'

export interface FileSinkInit {
  /** Directory the file goes into (created when missing). */
  directory: string
  /** Name to use instead of the manifest's; sanitised the same way. */
  fileName?: string
  /** Replace an existing file with the final name (default: pick `name (1).ext`). */
  overwrite?: boolean
  /** Least time between two saves of the resume record, ms (default 250). */
  recordInterval?: number
}

/** A file sink, with the paths it chose once `open()` has run. */
export interface FileSink extends TransferSink {
  readonly partPath?: string
  readonly recordPath?: string
}

/**
 * Node sink: writes verified chunks at their offsets into `<name>.part` (which
 * grows as they arrive; it is never preallocated) and
 * keeps `<name>.part.json` (the resume record) beside it; renames the `.part`
 * to the final name only when every chunk verified, then deletes the record.
 * A failed or cancelled fetch leaves exactly those two files. A new fetch of
 * the same content into the same directory re-hashes the chunks the record
 * lists and fetches only the rest. `open()` fails with
 * `InsufficientSpaceError`, before creating any file, when the destination's
 * file system has less room than the file still needs.
 */
export function fileSink (init: FileSinkInit): FileSink {
  return new NodeFileSink(init)
}

class NodeFileSink implements FileSink {
  partPath?: string
  recordPath?: string
  private readonly init: FileSinkInit
  private manifest?: Manifest
  private directory = ''
  private name = ''
  private handle?: FileHandle
  private bits?: ChunkBits
  private readonly writes = new Set<Promise<void>>()
  private saveTimer?: ReturnType<typeof setTimeout>
  private saving?: Promise<void>
  private dirty = false
  /** Set by complete()/abort(): no more timed saves. */
  private closing = false

  constructor (init: FileSinkInit) {
    if (typeof init.directory !== 'string' || init.directory.length === 0) {
      throw new InvalidArgumentError('fileSink needs a destination directory')
    }
    this.init = init
  }

  async open (manifest: Manifest): Promise<number[]> {
    this.manifest = manifest
    this.directory = resolve(this.init.directory)
    this.name = sanitizeFileName(this.init.fileName ?? manifest.name)
    this.partPath = this.inside(`${this.name}.part`)
    this.recordPath = `${this.partPath}.json`
    const claimed = await readResumeRecord(this.recordPath, manifest)
    // Before anything is created: what a resumed `.part` already occupies is not needed again.
    const occupied = claimed == null ? 0 : await stat(this.partPath).then((s) => s.blocks * 512, () => 0)
    await checkFreeSpace(this.directory, manifest.size - occupied)
    await mkdir(this.directory, { recursive: true })

    const held: number[] = []
    if (claimed != null) {
      this.handle = await open(this.partPath, 'r+').catch(() => undefined)
      if (this.handle != null) {
        // The `.part` grows as chunks arrive; anything past the file's end is not ours.
        if ((await this.handle.stat()).size > manifest.size) await this.handle.truncate(manifest.size)
        const buffer = new Uint8Array(manifest.chunkSize)
        for (let i = 0; i < manifest.chunks.length; i++) {
          if (!claimed.has(i)) continue
          const bytes = buffer.subarray(0, chunkLength(manifest, i))
          const { bytesRead } = await this.handle.read(bytes, 0, bytes.byteLength, i * manifest.chunkSize)
          if (bytesRead === bytes.byteLength && await verifyChunk(manifest, i, bytes)) held.push(i)
        }
      }
    }
    // Not truncated to the full size up front: a `.part` left by a failed
    // fetch then claims only the space its chunks were written to.
    this.handle ??= await open(this.partPath, 'w+')
    this.bits = new ChunkBits(manifest.chunks.length)
    for (const i of held) this.bits.set(i)
    await writeResumeRecord(this.recordPath, recordFor(manifest, this.bits))
    return held
  }

  async write (index: number, bytes: Uint8Array): Promise<void> {
    const { handle, manifest, bits } = this
    if (handle == null || manifest == null || bits == null) throw new InvalidArgumentError('fileSink.write before open')
    const position = index * manifest.chunkSize
    const op = (async () => {
      let written = 0
      while (written < bytes.byteLength) {
        const { bytesWritten } = await handle.write(bytes, written, bytes.byteLength - written, position + written)
        written += bytesWritten
      }
      bits.set(index)
      this.scheduleSave()
    })()
    this.writes.add(op)
    try {
      await op
    } finally {
      this.writes.delete(op)
    }
  }

  async complete (): Promise<SinkOutput> {
    await Promise.allSettled([...this.writes])
    this.closing = true
    this.stopSaving()
    await this.saving
    // Every chunk is written, so the file is already this long; a shorter `.part` would be a bug upstream.
    if (this.handle != null && this.manifest != null && (await this.handle.stat()).size !== this.manifest.size) {
      await this.handle.truncate(this.manifest.size)
    }
    await this.handle?.close()
    this.handle = undefined
    const partPath = this.partPath as string
    const finalPath = await this.finalPath()
    await rename(partPath, finalPath)
    await unlink(this.recordPath as string).catch(() => {})
    return { path: finalPath }
  }

  async abort (): Promise<void> {
    await Promise.allSettled([...this.writes])
    this.closing = true
    this.stopSaving()
    await this.saving
    if (this.dirty && this.handle != null) await this.save()
    await this.handle?.close().catch(() => {})
    this.handle = undefined
  }

  private scheduleSave (): void {
    this.dirty = true
    if (this.closing || this.saveTimer != null || this.saving != null) return
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined
      void this.save()
    }, this.init.recordInterval ?? 250)
  }

  private async save (): Promise<void> {
    if (this.manifest == null || this.bits == null || this.recordPath == null) return
    this.dirty = false
    const saving = writeResumeRecord(this.recordPath, recordFor(this.manifest, this.bits)).catch(() => { this.dirty = true })
    this.saving = saving
    await saving
    if (this.saving === saving) this.saving = undefined
    if (this.dirty) this.scheduleSave()
  }

  private stopSaving (): void {
    if (this.saveTimer != null) clearTimeout(this.saveTimer)
    this.saveTimer = undefined
  }

  /** The final name: the sanitised one, or `name (n).ext` when it is taken (unless overwriting). */
  private async finalPath (): Promise<string> {
    const first = this.inside(this.name)
    if (this.init.overwrite === true) return first
    const ext = extname(this.name)
    const stem = ext.length > 0 ? this.name.slice(0, -ext.length) : this.name
    for (let n = 0; n < 1000; n++) {
      const candidate = n === 0 ? first : this.inside(`${stem} (${n})${ext}`)
      if (!await exists(candidate)) return candidate
    }
    throw new InvalidArgumentError(`Too many files named like ${this.name} in ${this.directory}`)
  }

  /** Joins a sanitised name to the directory and checks it stayed inside. */
  private inside (name: string): string {
    const path = resolve(join(this.directory, name))
    if (dirname(path) !== this.directory) throw new InvalidArgumentError(`File name ${JSON.stringify(name)} leaves the destination`)
    return path
  }
}

async function exists (path: string): Promise<boolean> {
  try {
    await stat(path)
    return true
  } catch {
    return false
  }
}
