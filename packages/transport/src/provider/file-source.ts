import { open, stat } from 'node:fs/promises'
import { basename } from 'node:path'
import { ContentUnavailableError } from '../errors.js'
import { openPortableSource } from './content-source.js'
import type { ContentSource, ShareInput } from './content-source.js'
import type { FileHandle } from 'node:fs/promises'

/**
 * A file on disk as a content source (Node). The file is opened on the first
 * read and kept open until `close()`; each read is one positioned `read()`.
 * A file that shrank since it was shared fails with `ContentUnavailableError`.
 */
export async function fileSource (path: string): Promise<ContentSource> {
  let info
  try {
    info = await stat(path)
  } catch (err) {
    throw new ContentUnavailableError(`Cannot share ${path}: ${(err as Error).message}`, { cause: err })
  }
  if (!info.isFile()) throw new ContentUnavailableError(`Cannot share ${path}: not a regular file`)
  let handle: Promise<FileHandle> | undefined
  const getHandle = async (): Promise<FileHandle> => {
    handle ??= open(path, 'r')
    return handle
  }
  return {
    size: info.size,
    name: basename(path),
    async read (offset, target) {
      const fh = await getHandle()
      let filled = 0
      while (filled < target.byteLength) {
        const { bytesRead } = await fh.read(target, filled, target.byteLength - filled, offset + filled)
        if (bytesRead === 0) {
          throw new ContentUnavailableError(`${path} is shorter than when it was shared`)
        }
        filled += bytesRead
      }
    },
    async * stream () {
      const fh = await open(path, 'r')
      try {
        const piece = 1024 * 1024
        let offset = 0
        while (offset < info.size) {
          const buf = new Uint8Array(Math.min(piece, info.size - offset))
          const { bytesRead } = await fh.read(buf, 0, buf.byteLength, offset)
          if (bytesRead === 0) throw new ContentUnavailableError(`${path} changed while it was being hashed`)
          offset += bytesRead
          yield bytesRead === buf.byteLength ? buf : buf.subarray(0, bytesRead)
        }
      } finally {
        await fh.close()
      }
    },
    async close () {
      const h = handle
      handle = undefined
      if (h != null) await (await h).close().catch(() => {})
    }
  }
}

/** Node's resolver for `share()`: a path, a Blob/File, or a ready source. */
export async function openNodeSource (input: string | ShareInput): Promise<ContentSource> {
  return typeof input === 'string' ? fileSource(input) : openPortableSource(input)
}
