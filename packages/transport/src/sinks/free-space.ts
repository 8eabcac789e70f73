import { statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import { InsufficientSpaceError } from '../errors.js'
import { formatBytes } from '../receiver/size-limit.js'

/**
 * Throws `InsufficientSpaceError` when the file system holding `directory`
 * (or its nearest existing parent, before it is created) has fewer than
 * `needed` bytes available to this user. Where `statfs` cannot answer, the
 * fetch goes on: a full disk then shows as a failed write.
 */
export async function checkFreeSpace (directory: string, needed: number): Promise<void> {
  if (needed <= 0) return
  const available = await availableBytes(directory)
  if (available === undefined || available >= needed) return
  throw new InsufficientSpaceError(
    `The file needs ${formatBytes(needed)} (${needed} bytes) more in ${directory}, which has ${formatBytes(available)} (${available} bytes) free`
  )
}

async function availableBytes (directory: string): Promise<number | undefined> {
  for (let dir = directory; ; dir = dirname(dir)) {
    try {
      const s = await statfs(dir)
      return Number(s.bavail) * Number(s.bsize)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || dirname(dir) === dir) return undefined
    }
  }
}
