import { FileTooLargeError } from '../errors.js'
import type { Manifest } from '@chiral/core'

const GiB = 1024 * 1024 * 1024

/**
 * Default `maxFileSize` in Node: 64 GiB. A content id says nothing about the
 * size until its manifest arrives, and any provider can publish a valid one
 * for a file of terabytes (the manifest codec accepts about 2 TiB). The cap
 * is far above what is commonly shared (disk images, video archives) yet
 * keeps one fetch from committing a whole disk on a stranger's word; raise
 * it for known large content.
 */
export const NODE_MAX_FILE_SIZE = 64 * GiB

/**
 * Default `maxFileSize` in browsers: 16 GiB. Browsers grant a site a share
 * of the disk (OPFS), and a file that falls back to memory must fit there;
 * more than this in one tab is rarely what the user meant.
 */
export const BROWSER_MAX_FILE_SIZE = 16 * GiB

/** Throws `FileTooLargeError` when the manifest's file is over `limit` bytes. */
export function checkFileSize (manifest: Manifest, limit: number): void {
  if (manifest.size <= limit) return
  throw new FileTooLargeError(
    `${manifest.cid.toString()} is ${formatBytes(manifest.size)} (${manifest.size} bytes), over the ${formatBytes(limit)} (${limit} bytes) this receiver accepts (maxFileSize)`
  )
}

/** `1.5 GiB`-style size for messages. */
export function formatBytes (n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']
  let value = n
  let unit = 0
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit++ }
  return unit === 0 ? `${n} bytes` : `${Number(value.toFixed(1))} ${units[unit]}`
}
