/**
 * Where the OPFS sink keeps downloads: one folder of the origin private file
 * system, per content id a data file named after the id and, while the file
 * is incomplete, its resume record beside it.
 *
 *   chiral-downloads/<cid>              the file's bytes at their offsets
 *   chiral-downloads/<cid>.resume.json  which chunks are in it (ResumeRecord)
 */

/** The folder (below the OPFS root) the OPFS sink uses unless told otherwise. */
export const OPFS_DOWNLOADS_DIR = 'chiral-downloads'
const RECORD_SUFFIX = '.resume.json'

export function dataFileName (cid: string): string {
  return cid
}

export function recordFileName (cid: string): string {
  return `${cid}${RECORD_SUFFIX}`
}

/** True when this context offers the origin private file system and workers (the OPFS sink's needs). */
export function opfsAvailable (): boolean {
  return typeof navigator !== 'undefined' && typeof navigator.storage?.getDirectory === 'function' && typeof Worker === 'function'
}

async function downloadsDir (dir: string): Promise<FileSystemDirectoryHandle | undefined> {
  if (!opfsAvailable()) return undefined
  try {
    return await (await navigator.storage.getDirectory()).getDirectoryHandle(dir)
  } catch {
    return undefined
  }
}

/**
 * Deletes what the OPFS sink stored for `cid` (finished or partial). A file
 * still being written (here or in another tab) stays. True when nothing of
 * it is left.
 */
export async function removeStoredDownload (cid: string, dir = OPFS_DOWNLOADS_DIR): Promise<boolean> {
  const folder = await downloadsDir(dir)
  if (folder == null) return true
  let left = false
  for (const name of [recordFileName(cid), dataFileName(cid)]) {
    try {
      await folder.removeEntry(name)
    } catch (err) {
      if ((err as Error).name !== 'NotFoundError') left = true
    }
  }
  return !left
}

/**
 * Deletes finished downloads (data files without a resume record) that an
 * earlier page load left, except those named in `keep`; partial ones stay
 * for resuming. Returns the content ids removed.
 */
export async function pruneStoredDownloads (keep: Iterable<string> = [], dir = OPFS_DOWNLOADS_DIR): Promise<string[]> {
  const folder = await downloadsDir(dir)
  if (folder == null) return []
  const kept = new Set(keep)
  const names: string[] = []
  for await (const name of (folder as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name)
  const records = new Set(names.filter((n) => n.endsWith(RECORD_SUFFIX)).map((n) => n.slice(0, -RECORD_SUFFIX.length)))
  const removed: string[] = []
  for (const name of names) {
    if (name.endsWith(RECORD_SUFFIX) || records.has(name) || kept.has(name)) continue
    try {
      await folder.removeEntry(name)
      removed.push(name)
    } catch {}
  }
  return removed
}
