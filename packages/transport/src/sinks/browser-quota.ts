import { InsufficientSpaceError } from '../errors.js'
import { formatBytes } from '../receiver/size-limit.js'

/**
 * Throws `InsufficientSpaceError` when the site's storage quota
 * (`navigator.storage.estimate()`: quota − usage) is below `needed` bytes.
 * `held`: bytes of this file OPFS already holds (a part being resumed): they
 * count in the usage and are not needed again. Where the estimate is
 * unavailable the fetch goes on; a full quota then shows as a failed write.
 */
export async function checkBrowserQuota (needed: number, held = 0): Promise<void> {
  const storage = (globalThis as { navigator?: { storage?: StorageManager } }).navigator?.storage
  const estimate = await storage?.estimate?.().catch(() => undefined)
  if (estimate?.quota === undefined || estimate.usage === undefined) return
  const free = estimate.quota - estimate.usage
  const more = needed - held
  if (more <= free) return
  throw new InsufficientSpaceError(
    `The file needs ${formatBytes(more)} (${more} bytes) more of this site's browser storage, which has ${formatBytes(Math.max(0, free))} (${Math.max(0, free)} bytes) left`
  )
}

/** Size of an OPFS file, without creating it or its folder (0 when missing). */
export async function opfsFileSize (dir: string, name: string): Promise<number> {
  try {
    const root = await navigator.storage.getDirectory()
    const handle = await (await root.getDirectoryHandle(dir)).getFileHandle(name)
    return (await handle.getFile()).size
  } catch {
    return 0
  }
}
